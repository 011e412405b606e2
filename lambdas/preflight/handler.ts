import type { ClinikoClient } from '../../src/cliniko/client.js';
import { takeLease } from '../shared/lease.js';
import { clinikoFor, flushRequests, log, runtime } from '../shared/runtime.js';
import { stepHandler } from '../shared/step.js';
import { PreflightInput, PreflightOutput } from './io.js';
import { preflight } from './preflight.js';

const seen = new Map<ClinikoClient, Record<string, number>>();

export const handler = stepHandler(
  'Preflight',
  { input: PreflightInput, output: PreflightOutput },
  async (event) => {
    const rt = runtime();
    const make = clinikoFor();
    const used = new Set<ClinikoClient>();
    const out = await preflight(event, {
      ...rt,
      cliniko: (creds, i) => {
        const c = make(creds, i);
        used.add(c);
        return c;
      },
      takeLease,
      clinicHolder: (clinicId) => rt.gate.holder(clinicId),
    });
    if (out.ok) await flushRequests(event.runId, used, seen);
    log.info('preflight', {
      runId: event.runId,
      ok: out.ok,
      failures: out.failures.length,
      duplicationRisk: out.duplicationRisk,
    });
    return out;
  },
);
