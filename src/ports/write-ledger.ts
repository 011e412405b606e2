import type { CountedEntity, EntityCounts } from '../core/entities.js';

/**
 * The write ledger port: each record's write result, recorded exactly once however often a writer
 * reports it, and the exact totals the report counts from.
 */
export type WriteOutcome = 'created' | 'alreadyPresent' | 'updated' | 'failed';

export interface WriteResult {
  readonly entity: CountedEntity;
  readonly sourceId: string;
  readonly outcome: WriteOutcome;
  readonly clinikoId?: string;
  readonly reason?: string;
  readonly code?: string;
  /** A refused record's source file, row and the column behind the field Cliniko named. */
  readonly file?: string;
  readonly row?: number;
  readonly field?: string;
}

/** A ledger line: a write result, or the last error of a record still being retried (no outcome yet). */
export type LedgerEntry = Omit<WriteResult, 'outcome'> & {
  outcome?: WriteOutcome;
  lastError?: string;
  /** ISO 8601 UTC: when the result was first recorded. */
  at?: string;
};

export type WriteTotals = Partial<
  Record<CountedEntity, Pick<EntityCounts, 'created' | 'alreadyPresent' | 'updated' | 'failed'>>
>;

export interface WriteLedger {
  /** Records a write's result exactly once, however often it is reported. */
  recordWrite(runId: string, result: WriteResult): Promise<void>;
  /** Notes the latest error of a record that will be retried (shown if it ends in the dead-letter queue). */
  noteAttempt(runId: string, entity: CountedEntity, sourceId: string, reason: string): Promise<void>;
  /** Per entity, how many records each outcome counted (each record once). */
  writeTotals(runId: string): Promise<WriteTotals>;
  /** Every write result, and the last error of records still being retried (no outcome yet). */
  listWrites(runId: string): AsyncIterable<LedgerEntry>;
}
