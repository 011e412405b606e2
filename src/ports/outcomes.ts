import { z } from 'zod';
import { CountedEntity, EntityKey } from '../core/entities.js';

/**
 * The outcomes port: what each mapper saw of its rows (one outcome per source record) and the
 * counts of each batch, written whole so a retried step never counts twice. The records it reads
 * back have zod schemas (types inferred from them), parsed by the adapter where they enter.
 */
export const BatchCounts = z
  .object({
    entity: CountedEntity,
    source: z.number(),
    planned: z.number(),
    skipped: z.number(),
    invalid: z.number(),
    /** Write commands sent to the writers (live runs). */
    enqueued: z.number(),
    /** Records that could not be enqueued because a parent was not written. */
    failed: z.number(),
    /** A dry run's planned rows the live run finds present (updated included), and would update. */
    alreadyPresent: z.number().optional(),
    updated: z.number().optional(),
  })
  .readonly();
export type BatchCounts = z.output<typeof BatchCounts>;

/** Per source table, rows parsed and whether their count was proven against the file. */
export const BatchEvidence = z.record(z.string(), z.object({ parsed: z.number(), proven: z.boolean() }));
export type BatchEvidence = z.output<typeof BatchEvidence>;

/** The outcome of a row as its mapper saw it. */
export const RecordOutcome = z
  .object({
    entity: EntityKey,
    sourceId: z.string(),
    outcome: z.enum(['planned', 'skipped', 'invalid', 'failed']),
    file: z.string(),
    row: z.number(),
    reason: z.string().optional(),
    hash: z.string().optional(),
    /** A child row's (appointment, note, document) client: an id, so the report can name them. */
    clientSourceId: z.string().optional(),
    /** Contacts: the Cliniko contact type code (1 = doctor), which decides a patient's referring doctor. */
    typeCode: z.number().optional(),
  })
  .readonly();
export type RecordOutcome = z.output<typeof RecordOutcome>;

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
