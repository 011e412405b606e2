import { z } from 'zod';
import { RECONCILE_ORDER } from '../../src/reconcile/resources.js';

const count = z.number().int().nonnegative();

/** One item of the Reconcile map: the run and one resource of RECONCILE_ORDER. */
export const ReconcileInput = z
  .object({ runId: z.string().min(1), resource: z.literal(RECONCILE_ORDER) })
  .readonly();
export type ReconcileInput = z.output<typeof ReconcileInput>;

/** What reading one resource from the account found (src/reconcile/resources.ts ReconcileOutput). */
export const ReconcileOutput = z
  .object({
    resource: z.literal(RECONCILE_ORDER),
    read: count,
    requests: count,
    notInCliniko: count,
    found: count,
  })
  .readonly();
