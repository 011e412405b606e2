import { z } from 'zod';

/** One item of a phase's Map state: the run and one batch key Plan wrote. */
export const MapBatchInput = z.object({ runId: z.string().min(1), batchKey: z.string().min(1) }).readonly();
export type MapBatchInput = z.output<typeof MapBatchInput>;

/** The batch mapped and how many write commands it sent the writers. */
export const MapBatchOutput = z
  .object({ batchKey: z.string().min(1), enqueued: z.number().int().nonnegative() })
  .readonly();
export type MapBatchOutput = z.output<typeof MapBatchOutput>;
