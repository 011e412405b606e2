import type { EntityCounts, EntityKey, SupportEntity } from '../core/entities.js';
import type { Problem } from '../core/problem.js';
import type { ArrivalCosts } from '../mapping/arrivals.js';
import type { ApprovalAids } from './approval-aids.js';
import type { RunProjection } from './run-projection.js';

export interface ChecklistItem {
  readonly item: string;
  readonly detail: string;
}

/** report.json: the machine-readable truth of a run (docs/REPORT.md). */
export interface RunReport {
  readonly runId: string;
  readonly mode: 'dry-run' | 'live';
  /** docs/REPORT.md: `blocked` is a dry run whose checklist leaves it unable to go live. */
  readonly status: 'succeeded' | 'blocked' | 'failed' | 'interrupted';
  readonly source: { readonly system: string; readonly file: string; readonly sha256: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  /** The clinic's IANA zone (its default business's): the page shows the run's times in it. */
  readonly timeZone?: string;
  readonly entities: Record<EntityKey, EntityCounts>;
  readonly excluded: Record<string, number>;
  /**
   * Records the run wrote that no source row stands for (the "Migrated appointment" type, native
   * notes' templates, the notes archive PDF), by outcome: counted apart so `entities` keeps
   * `source = planned + …`, yet every record the run created is in the report (issue 23: the
   * report said 5 appointment types where Cliniko held 6).
   */
  readonly supportRecords?: Partial<
    Record<
      SupportEntity,
      { readonly created: number; readonly alreadyPresent: number; readonly failed: number }
    >
  >;
  readonly problems: readonly Problem[];
  readonly cliniko: {
    readonly requests: number;
    readonly byStatus: Record<string, number>;
    readonly keys: number;
    readonly target: string;
    /** The account written to (docs/REPORT.md): its shard and business names, with its id and name. */
    readonly account?: {
      readonly shard: string;
      readonly businesses: readonly string[];
      readonly id?: string;
      readonly name?: string;
    };
    /** Requests spent reading what the account already holds before writing (issue 11). */
    readonly reconciliationRequests?: number;
  };
  /** What each `markArrivals` setting costs in requests and time at the configured keys. */
  readonly arrivals?: ArrivalCosts;
  /**
   * A dry run's live run on AWS (issue 22): Cliniko requests, duration, Step Functions executions
   * and the AWS cost of the run per service, at the configured keys and at 1, 4 and 8 (USD, at the
   * stack's region's prices, see run-projection.ts and aws-prices.ts).
   */
  readonly projection?: RunProjection;
  /**
   * What the Cliniko account already held, read before writing (issue 11), per resource: records
   * read, requests spent, cached ids no longer in the account, records adopted by natural key.
   */
  readonly reconciliation?: Record<
    string,
    {
      readonly read: number;
      readonly requests: number;
      readonly notInCliniko: number;
      readonly found: number;
    }
  >;
  /** What a clinic checks before sign-off, done for it (see approval-aids.ts). */
  readonly approvalAids?: ApprovalAids;
  /** What the clinic does next (written into report.json; the page shows it). */
  readonly checklist?: readonly ChecklistItem[];
  readonly summary: {
    readonly rowsRead: number;
    readonly errors: number;
    readonly warnings: number;
    readonly infos: number;
    readonly seconds: number;
  };
}

/**
 * Why a dry run cannot go live (docs/REPORT.md, `status`: `blocked`, issue 14): practitioners of
 * the export that match no Cliniko practitioner under the `"fail"` policy. One sentence per
 * practitioner, each with its fix; empty when nothing blocks.
 */
export function blockingReasons(problems: readonly Problem[]): string[] {
  return problems
    .filter((p) => p.entity === 'practitioners' && p.code === 'UNMATCHED_PRACTITIONER')
    .map((p) => p.message);
}

const CSV_COLUMNS = [
  'entity',
  'sourceId',
  'patient',
  'file',
  'row',
  'field',
  'code',
  'severity',
  'message',
] as const;

/** A cell that a spreadsheet would run as a formula is prefixed with a quote. */
export function csvCell(value: unknown): string {
  let s = value === undefined || value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function problemsCsv(problems: readonly Problem[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const p of problems) lines.push(CSV_COLUMNS.map((c) => csvCell(p[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
