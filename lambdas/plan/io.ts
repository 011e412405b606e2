import { z } from 'zod';
import type { Phase } from '../../src/batch/row-processing.js';

/** Plan's input: the run Preflight recorded. */
export const PlanInput = z.object({ runId: z.string().min(1) }).readonly();
export type PlanInput = z.output<typeof PlanInput>;

const batchKeys = z.array(z.string().min(1));

/** Per phase, the batch keys the phase's Map state hands MapBatch, one at a time. */
export const PlanOutput = z
  .object({
    runId: z.string().min(1),
    setup: batchKeys,
    patients: batchKeys,
    appointments: batchKeys,
    documents: batchKeys,
  } satisfies Record<Phase | 'runId', z.ZodType>)
  .readonly();
export type PlanOutput = z.output<typeof PlanOutput>;
