import type { ClinikoClient } from '../../src/cliniko/client.js';
import { keepLease } from '../shared/lease.js';
import { clinikoFor, flushRequests, log, runtime } from '../shared/runtime.js';
import { type StepContext, stepHandler } from '../shared/step.js';
import { ReconcileInput, ReconcileOutput } from './io.js';
import { budgetOf, type ReconcileBudget, reconcile } from './reconcile.js';

const seen = new Map<ClinikoClient, Record<string, number>>();

export const handler = stepHandler(
  'Reconcile',
  { input: ReconcileInput, output: ReconcileOutput },
  async (event, context) => {
    const rt = runtime();
    const make = clinikoFor();
    const used = new Set<ClinikoClient>();
    const out = await reconcile(
      event,
      {
        ...rt,
        cliniko: async (run) => {
          const c = make(await rt.secrets.credentials(run.clinicId), 0, run.clinikoUsers[0]);
          used.add(c);
          await keepLease(run);
          return c;
        },
      },
      budgetFrom(context),
    );
    await flushRequests(event.runId, used, seen);
    log.info('reconcile', {
      runId: event.runId,
      resource: out.resource,
      read: out.read,
      requests: out.requests,
      notInCliniko: out.notInCliniko,
      found: out.found,
      done: out.done,
      invocations: out.invocations,
    });
    return out;
  },
);

/**
 * The invocation's budget: the time Lambda says is left, a fifth of it (at least 30 s) kept in
 * hand for the checkpoint; without a context (a caller of its own), ten minutes.
 */
function budgetFrom(context: StepContext | undefined): ReconcileBudget {
  const left = context?.getRemainingTimeInMillis?.();
  if (left === undefined) return budgetOf(10 * 60_000, 60_000);
  const end = Date.now() + left;
  return { timeLeft: () => end - Date.now(), reserveMs: Math.max(30_000, left / 5) };
}
