import { seededRandom } from '../../src/core/random.js';
import { documentSizes } from './document-bytes.js';

export interface GenerateOptions {
  readonly patients: number;
  readonly years?: number;
  readonly seed?: number;
  /** Appointments per patient on average (default 15). */
  readonly appointmentsPerPatient?: number;
  /** Set false for a clean export (tests of exact counts use the messy default). */
  readonly messy?: boolean;
  /** Letters and uploads per 100 patients (default 10 each); ignored with `documentsMb`. */
  readonly documentsPer100?: number;
  /**
   * Megabytes (MiB) of document files, spread over letters (50 KB to 1 MB) and uploads (50 KB to
   * 40 MB) of realistic, incompressible bytes; their number follows from the budget. Without it,
   * each document is a few hundred bytes.
   */
  readonly documentsMb?: number;
}

/**
 * What every table's rows are drawn from: the options with their defaults, one seeded random
 * source (tables draw from it in entry order, so the same seed gives the same export), how many
 * rows of each table, and the rows counted as they are generated.
 */
export interface Generation {
  /** Clients. */
  readonly n: number;
  readonly messy: boolean;
  readonly appointments: number;
  readonly notes: number;
  readonly employers: number;
  readonly referrers: number;
  readonly letters: number;
  readonly uploads: number;
  /** With `documentsMb`: each letter's and upload's file size in bytes (index 0 is LT1 / U1). */
  readonly documentBytes?: { readonly letters: readonly number[]; readonly uploads: readonly number[] };
  /** The seed, for what is drawn apart from the tables' source (documents' bytes). */
  readonly seed: number;
  /** The export's last day (epoch ms, UTC midnight) and the history before it (ms). */
  readonly end: number;
  readonly span: number;
  /** Rows generated per table so far. */
  readonly rows: Record<string, number>;
  random(): number;
  pick<T>(list: readonly T[]): T;
  /** True with probability `p`, in a messy export only. */
  chance(p: number): boolean;
  /** Each kind of mess also appears at a fixed row, so even a small export has every kind. */
  forced(i: number, at: number): boolean;
  /** A random day of the history. */
  someDay(): Date;
  count(table: string): void;
}

export function generation(options: GenerateOptions): Generation {
  const random = seededRandom(options.seed ?? 1);
  const years = options.years ?? 3;
  const messy = options.messy ?? true;
  const n = options.patients;
  const seed = options.seed ?? 1;
  const documentBytes =
    options.documentsMb === undefined ? undefined : documentSizes(options.documentsMb * 1024 ** 2, seed);
  const letters =
    documentBytes?.letters.length ?? Math.max(1, Math.round((n * (options.documentsPer100 ?? 10)) / 100));
  const end = Date.UTC(2026, 9, 31);
  const span = years * 365 * 86_400_000;
  const rows: Record<string, number> = {};
  return {
    n,
    messy,
    appointments: Math.round(n * (options.appointmentsPerPatient ?? 15)),
    notes: Math.round(n * 2),
    employers: Math.max(3, Math.round(n / 50)),
    referrers: Math.max(3, Math.round(n / 40)),
    letters,
    uploads: documentBytes?.uploads.length ?? letters,
    ...(documentBytes ? { documentBytes } : {}),
    seed,
    end,
    span,
    rows,
    random,
    pick: <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T,
    chance: (p: number) => messy && random() < p,
    forced: (i: number, at: number) => messy && i === Math.min(at, n),
    someDay: () => new Date(end - Math.floor(random() * span)),
    count: (table: string) => {
      rows[table] = (rows[table] ?? 0) + 1;
    },
  };
}
