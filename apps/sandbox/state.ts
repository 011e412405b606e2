import { readFileSync, writeFileSync } from 'node:fs';
import { utcSeconds } from './validation.js';

export type Rec = Record<string, unknown> & { id: string; created_at: string; updated_at: string };

export const TABLES = [
  'users',
  'practitioners',
  'businesses',
  'appointment_types',
  'patients',
  'contacts',
  'individual_appointments',
  'attendees',
  'medical_alerts',
  'referral_source_types',
  'referral_sources',
  'patient_attachments',
  'treatment_notes',
  'treatment_note_templates',
  'invoices',
  'patient_cases',
  'patient_forms',
  'relationships',
  'communications',
] as const;
export type Table = (typeof TABLES)[number];

/** The Cliniko account a sandbox stands for (`GET /settings/public` → `account`). */
export interface SandboxAccount {
  readonly id: string;
  readonly name: string;
  readonly subdomain: string;
  readonly country_code: string;
}

interface Snapshot {
  account?: SandboxAccount;
  seq: string;
  tables: Record<string, readonly Rec[]>;
  apiKeys: Record<string, string>;
}

/**
 * The sandbox's records, in memory, optionally saved to a file. Ids are 18–19 digit strings
 * well past 2^53, so a client that turns them into numbers is caught at once.
 */
export class SandboxState {
  private seq = 0n;
  /**
   * Each sandbox is its own account, with ids of its own (as accounts on one Cliniko shard never
   * share a record id), so a client that sends one account's ids to another is caught.
   */
  account: SandboxAccount = randomAccount();
  private readonly tables = new Map<Table, Map<string, Rec>>(TABLES.map((t) => [t, new Map()]));
  /** Each table's records as an array, kept until the table changes (lists of large tables page from it). */
  private readonly arrays = new Map<Table, Rec[]>();
  /** API key (without its shard suffix) → user id. */
  readonly apiKeys = new Map<string, string>();

  constructor(private readonly clock: () => number = Date.now) {}

  nextId(): string {
    this.seq++;
    return String(
      536_870_912_000_000_000n + BigInt(this.account.id) * 1_000_000_000_000n + this.seq * 7_919n,
    );
  }

  now(): string {
    return utcSeconds(new Date(this.clock()));
  }

  insert(table: Table, values: Record<string, unknown>): Rec {
    const stamp = this.now();
    const rec: Rec = { ...values, id: this.nextId(), created_at: stamp, updated_at: stamp };
    this.map(table).set(rec.id, rec);
    this.arrays.delete(table);
    return rec;
  }

  /**
   * Adds `count` records made by `make(i)` at once, as a clinic's years of history stand in the
   * account (not through the API: a 300,000-record account seeds in about a second). They share
   * one creation time and take ids in order, so they list in the order made.
   */
  insertMany(table: Table, count: number, make: (i: number) => Record<string, unknown>): void {
    const stamp = this.now();
    const m = this.map(table);
    for (let i = 0; i < count; i++) {
      const rec: Rec = { ...make(i), id: this.nextId(), created_at: stamp, updated_at: stamp };
      m.set(rec.id, rec);
    }
    this.arrays.delete(table);
  }

  update(table: Table, id: string, values: Record<string, unknown>): Rec {
    const rec = this.get(table, id);
    if (!rec) throw new Error(`no ${table} ${id}`);
    Object.assign(rec, values, { updated_at: this.now() });
    this.arrays.delete(table);
    return rec;
  }

  /** Removes a record outright (what the API cannot do: tests stand in for a support request). */
  remove(table: Table, id: string): boolean {
    this.arrays.delete(table);
    return this.map(table).delete(id);
  }

  get(table: Table, id: string): Rec | undefined {
    return this.map(table).get(id);
  }

  /**
   * The table's records, in the order they were made: the same array until the table changes
   * (callers never change it), so a list of a large table is filtered and sorted once, not for
   * every page (routes/listing.ts).
   */
  all(table: Table): readonly Rec[] {
    let rows = this.arrays.get(table);
    if (!rows) {
      rows = [...this.map(table).values()];
      this.arrays.set(table, rows);
    }
    return rows;
  }

  count(table: Table, predicate: (r: Rec) => boolean = () => true): number {
    let n = 0;
    for (const r of this.map(table).values()) if (predicate(r)) n++;
    return n;
  }

  private map(table: Table): Map<string, Rec> {
    const m = this.tables.get(table);
    if (!m) throw new Error(`unknown table ${table}`);
    return m;
  }

  save(file: string): void {
    const snapshot: Snapshot = {
      account: this.account,
      seq: String(this.seq),
      tables: Object.fromEntries(TABLES.map((t) => [t, this.all(t)])),
      apiKeys: Object.fromEntries(this.apiKeys),
    };
    writeFileSync(file, JSON.stringify(snapshot));
  }

  load(file: string): void {
    const snapshot = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
    if (snapshot.account) this.account = snapshot.account;
    this.seq = BigInt(snapshot.seq);
    for (const t of TABLES) {
      const m = this.map(t);
      m.clear();
      for (const r of snapshot.tables[t] ?? []) m.set(r.id, r);
    }
    this.arrays.clear();
    this.apiKeys.clear();
    for (const [k, v] of Object.entries(snapshot.apiKeys)) this.apiKeys.set(k, v);
  }
}

/** A new account: a 6-digit id (ids of its records are spaced by it), named after it. */
export function randomAccount(): SandboxAccount {
  const id = String(100_000 + Math.floor(Math.random() * 800_000));
  return { id, name: `Sandbox account ${id}`, subdomain: `sandbox-${id}`, country_code: 'AU' };
}
