import { z } from 'zod';

const count = z.number().int().nonnegative();

/** A phase's check, polled by the state machine until `done`. */
export const CheckPhaseInput = z
  .object({
    runId: z.string().min(1),
    phase: z.string().min(1),
    /** How many checks in a row found the queue empty with records unfinished. */
    idleChecks: count.optional(),
  })
  .readonly();
export type CheckPhaseInput = z.output<typeof CheckPhaseInput>;

export const CheckPhaseOutput = z
  .object({
    phase: z.string().min(1),
    done: z.boolean(),
    enqueued: count,
    finished: count,
    deadLettered: count,
    idleChecks: count,
    /** Per entity: written (or refused) of enqueued, for progress displays. */
    byEntity: z.record(z.string(), z.object({ enqueued: count, finished: count }).readonly()),
  })
  .readonly();
export type CheckPhaseOutput = z.output<typeof CheckPhaseOutput>;
