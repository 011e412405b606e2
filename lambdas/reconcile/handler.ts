import type { ClinikoClient } from '../../src/cliniko/client.js';
import type { ReconcileOutput } from '../../src/reconcile/resources.js';
import { clinikoFor, flushRequests, log, runtime } from '../shared/runtime.js';
import { type ReconcileInput, reconcile } from './reconcile.js';

const seen = new Map<ClinikoClient, Record<string, number>>();

export const handler = async (event: ReconcileInput): Promise<ReconcileOutput> => {
  const rt = runtime();
  const make = clinikoFor();
  const used = new Set<ClinikoClient>();
  const out = await reconcile(event, {
    ...rt,
    cliniko: async (run) => {
      const c = make(await rt.secrets.credentials(run.clinicId), 0, run.clinikoUsers[0]);
      used.add(c);
      return c;
    },
  });
  await flushRequests(event.runId, used, seen);
  log.info('reconcile', {
    runId: event.runId,
    resource: out.resource,
    read: out.read,
    requests: out.requests,
    notInCliniko: out.notInCliniko,
    found: out.found,
  });
  return out;
};
