import type { z } from 'zod';
import { ClinikoAuthError } from '../../src/cliniko/errors.js';
import { parseAt } from '../../src/core/boundary.js';
import { forgetSecrets } from './runtime.js';

/**
 * A Step Functions task's handler: its input parsed by `input` where it enters (a malformed one
 * is refused with a BoundaryError naming the step and the fields, e.g. `Plan input refused:
 * runId: ...`) and its output parsed by `output` before the state machine hands it to the next
 * state, so a step never passes on what the next one would refuse. The same handler runs on AWS
 * and in the local runner. A step that fails on Cliniko's 401 drops the container's kept secrets
 * (issue 24), so its retry or the next run reads a rotated key.
 */
/** What a step reads of the Lambda context: the time left before its timeout (ms). */
export interface StepContext {
  getRemainingTimeInMillis?(): number;
}

export function stepHandler<I extends z.ZodType, O extends z.ZodType>(
  step: string,
  schemas: { readonly input: I; readonly output: O },
  run: (input: z.output<I>, context?: StepContext) => Promise<z.input<O>>,
): (event: unknown, context?: StepContext) => Promise<z.output<O>> {
  return async (event, context) => {
    const input = parseAt(`${step} input`, schemas.input, event);
    try {
      return parseAt(`${step} output`, schemas.output, await run(input, context));
    } catch (err) {
      if (err instanceof ClinikoAuthError) forgetSecrets();
      throw err;
    }
  };
}
