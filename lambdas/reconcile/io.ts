import { z } from 'zod';
import { RECONCILE_ORDER } from '../../src/reconcile/resources.js';

const count = z.number().int().nonnegative();

/** One item of the Reconcile map: the run and one resource of RECONCILE_ORDER. */
export const ReconcileInput = z
  .object({ runId: z.string().min(1), resource: z.literal(RECONCILE_ORDER) })
  .readonly();
export type ReconcileInput = z.output<typeof ReconcileInput>;

/**
 * What reconciling one resource found so far (src/reconcile/resources.ts ReconcileOutput), and
 * whether it is done: the state machine calls the step again, with this as its input, until it is.
 */
export const ReconcileOutput = z
  .object({
    runId: z.string().min(1),
    resource: z.literal(RECONCILE_ORDER),
    done: z.boolean(),
    /** Invocations so far, this one included. */
    invocations: count,
    read: count,
    requests: count,
    notInCliniko: count,
    found: count,
  })
  .readonly();
export type ReconcileOutput = z.output<typeof ReconcileOutput>;
