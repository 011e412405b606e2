import type { CountedEntity, EntityKey } from '../core/entities.js';

/**
 * The outcomes port: what each mapper saw of its rows (one outcome per source record) and the
 * counts of each batch, written whole so a retried step never counts twice.
 */
export interface BatchCounts {
  readonly entity: CountedEntity;
  readonly source: number;
  readonly planned: number;
  readonly skipped: number;
  readonly invalid: number;
  /** Write commands sent to the writers (live runs). */
  readonly enqueued: number;
  /** Records that could not be enqueued because a parent was not written. */
  readonly failed: number;
}

/** Per source table, rows parsed and whether their count was proven against the file. */
export type BatchEvidence = Record<string, { parsed: number; proven: boolean }>;

/** The outcome of a row as its mapper saw it. */
export interface RecordOutcome {
  readonly entity: EntityKey;
  readonly sourceId: string;
  readonly outcome: 'planned' | 'skipped' | 'invalid' | 'failed';
  readonly file: string;
  readonly row: number;
  readonly reason?: string;
  readonly hash?: string;
  /** Contacts: the Cliniko contact type code (1 = doctor), which decides a patient's referring doctor. */
  readonly typeCode?: number;
  /** Patients: who the notes PDF is about (its cover and every page's header). */
  readonly label?: { readonly name: string; readonly dateOfBirth?: string };
}

export interface OutcomeStore {
  /** Overwrites a batch's counts (and evidence): a retried batch replaces, never adds. */
  putBatchCounts(
    runId: string,
    batchKey: string,
    counts: BatchCounts,
    evidence?: BatchEvidence,
  ): Promise<void>;
  listBatchCounts(
    runId: string,
  ): Promise<{ batchKey: string; counts: BatchCounts; evidence?: BatchEvidence }[]>;
  putOutcomes(runId: string, outcomes: readonly RecordOutcome[]): Promise<void>;
  /** The outcomes recorded for these source ids (absent ids are left out of the map). */
  getOutcomes(
    runId: string,
    entity: EntityKey,
    sourceIds: readonly string[],
  ): Promise<Map<string, RecordOutcome>>;
  listOutcomes(runId: string, entity?: EntityKey): AsyncIterable<RecordOutcome>;
}
