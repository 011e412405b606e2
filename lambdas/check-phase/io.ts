import { z } from 'zod';

const count = z.number().int().nonnegative();

/** A phase's check, polled by the state machine until `done`. */
export const CheckPhaseInput = z
  .object({
    runId: z.string().min(1),
    phase: z.string().min(1),
    /** How many checks in a row found the queue empty with records unfinished (older callers). */
    idleChecks: count.optional(),
    /**
     * The previous check's output as the state holds it (before the first check, the phase's
     * starting values): its idle checks, checks in this execution (`polls`), part of the run,
     * and `finished`, `checkedAt` (epoch seconds) and `waitSeconds`, from which the run's rate is
     * measured.
     */
    previous: z
      .object({
        idleChecks: count.optional(),
        polls: count.optional(),
        part: count.optional(),
        finished: count.optional(),
        checkedAt: count.optional(),
        waitSeconds: count.optional(),
      })
      .optional(),
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
    /** This check's number in the execution (previous `polls` + 1). */
    polls: count,
    /** Which part of the run (execution) of this phase: 1 in the execution that started the phase. */
    part: count,
    /** When this check ran, epoch seconds. */
    checkedAt: count,
    /** Seconds until the next check is worth making (the Wait state's SecondsPath). */
    waitSeconds: count,
    /** Per entity: written (or refused) of enqueued, for progress displays. */
    byEntity: z.record(z.string(), z.object({ enqueued: count, finished: count }).readonly()),
  })
  .readonly();
export type CheckPhaseOutput = z.output<typeof CheckPhaseOutput>;
