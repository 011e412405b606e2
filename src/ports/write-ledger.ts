import { z } from 'zod';
import { CountedEntity, type EntityCounts } from '../core/entities.js';

/**
 * The write ledger port: each record's write result, recorded exactly once however often a writer
 * reports it, and the exact totals the report counts from. What it reads back has zod schemas
 * (types inferred from them), parsed by the adapter where it enters.
 */
export const WRITE_OUTCOMES = ['created', 'alreadyPresent', 'updated', 'failed'] as const;
export const WriteOutcome = z.enum(WRITE_OUTCOMES);
export type WriteOutcome = z.output<typeof WriteOutcome>;

const writeFields = {
  entity: CountedEntity,
  sourceId: z.string(),
  clinikoId: z.string().optional(),
  reason: z.string().optional(),
  code: z.string().optional(),
  /** A refused record's source file, row and the column behind the field Cliniko named. */
  file: z.string().optional(),
  row: z.number().optional(),
  field: z.string().optional(),
};

export const WriteResult = z.object({ ...writeFields, outcome: WriteOutcome }).readonly();
export type WriteResult = z.output<typeof WriteResult>;

/** A ledger line: a write result, or the last error of a record still being retried (no outcome yet). */
export const LedgerEntry = z.object({
  ...writeFields,
  outcome: WriteOutcome.optional(),
  lastError: z.string().optional(),
  /** ISO 8601 UTC: when the result was first recorded. */
  at: z.string().optional(),
});
export type LedgerEntry = z.output<typeof LedgerEntry>;

export type WriteTotals = Partial<
  Record<CountedEntity, Pick<EntityCounts, 'created' | 'alreadyPresent' | 'updated' | 'failed'>>
>;

export interface WriteLedger {
  /** Records a write's result exactly once, however often it is reported. */
  recordWrite(runId: string, result: WriteResult): Promise<void>;
  /** Notes the latest error of a record that will be retried (shown if it ends in the dead-letter queue). */
  noteAttempt(runId: string, entity: CountedEntity, sourceId: string, reason: string): Promise<void>;
  /**
   * Per entity, how many records each outcome counted (each record once), from counters: a read
   * of fixed cost whatever the run's size. Never more than the exact totals; fewer only when a
   * writer stopped between recording a result and counting it (settleWriteTotals is exact).
   */
  writeTotals(runId: string): Promise<WriteTotals>;
  /**
   * The exact totals, counted from every record's result (each record once, as first counted):
   * reads every result of the run, so it is for when the counters fall short with nothing left
   * to write, not for polling.
   */
  settleWriteTotals(runId: string): Promise<WriteTotals>;
  /** Every write result, and the last error of records still being retried (no outcome yet). */
  listWrites(runId: string): AsyncIterable<LedgerEntry>;
}
