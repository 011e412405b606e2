import { z } from 'zod';
import type { Phase } from '../../src/batch/row-processing.js';

/** Plan's input: the run Preflight recorded. */
export const PlanInput = z.object({ runId: z.string().min(1) }).readonly();
export type PlanInput = z.output<typeof PlanInput>;

/**
 * A phase's batches: how many, and the manifest (a JSON array of batch keys in the bucket,
 * keys.manifest) the phase's Distributed Map reads with its ItemReader. The keys themselves never
 * enter the state: with them inline, 256 KiB of state held about 4,000 batches.
 */
export const PhaseManifest = z.object({
  batches: z.number().int().nonnegative(),
  manifest: z.string().min(1),
});
export type PhaseManifest = z.output<typeof PhaseManifest>;
const batchKeys = PhaseManifest;

/** Per phase, its manifest of batch keys the phase's Map state hands MapBatch, one at a time. */
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
