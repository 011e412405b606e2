import { z } from 'zod';
import { RunMode } from '../../src/ports/runs.js';

/** Report's input: from the pipeline's end, a failed preflight, or a state's Catch. */
export const ReportInput = z
  .object({
    runId: z.string().min(1),
    clinicId: z.string().min(1),
    bucket: z.string().min(1),
    /** Preflight's failures: the run stopped before planning. */
    failures: z.array(z.string()).readonly().optional(),
    exportKey: z.string().optional(),
    mode: RunMode.optional(),
    /** A state's failure as its Catch recorded it (Step Functions' `Error` and `Cause`). */
    executionFailure: z
      .object({ Error: z.string().optional(), Cause: z.string().optional() })
      .readonly()
      .optional(),
    /** The state that failed. */
    failedState: z.string().optional(),
  })
  .readonly();
export type ReportInput = z.output<typeof ReportInput>;

export const ReportOutput = z
  .object({
    runId: z.string().min(1),
    status: z.enum(['succeeded', 'blocked', 'failed']),
    /** Where report.json is in the bucket. */
    reportKey: z.string().min(1),
    /** Records that failed. */
    failed: z.number().int().nonnegative(),
  })
  .readonly();
export type ReportOutput = z.output<typeof ReportOutput>;
