import type { ClinikoClient } from '../../src/cliniko/client.js';
import { clinikoFor, flushRequests, log, runtime } from '../shared/runtime.js';
import { stepHandler } from '../shared/step.js';
import { ReconcileInput, ReconcileOutput } from './io.js';
import { reconcile } from './reconcile.js';

const seen = new Map<ClinikoClient, Record<string, number>>();

export const handler = stepHandler(
  'Reconcile',
  { input: ReconcileInput, output: ReconcileOutput },
  async (event) => {
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
  },
);
