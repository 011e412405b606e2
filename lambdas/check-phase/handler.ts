import { keepLease } from '../shared/lease.js';
import { log, runtime } from '../shared/runtime.js';
import { stepHandler } from '../shared/step.js';
import { checkPhase } from './check-phase.js';
import { CheckPhaseInput, CheckPhaseOutput } from './io.js';

export const handler = stepHandler(
  'CheckPhase',
  { input: CheckPhaseInput, output: CheckPhaseOutput },
  async (event) => {
    const rt = runtime();
    const out = await checkPhase(event, { store: rt.store, queue: rt.queue() });
    // the account's lease lives through the wait before the next check (renewed only when it
    // would lapse before then, or every LEASE_RENEW_SECONDS)
    if (!out.done) await keepLease(event.runId, { waitSeconds: out.waitSeconds });
    log.info('phase check', {
      runId: event.runId,
      phase: out.phase,
      done: out.done,
      enqueued: out.enqueued,
      finished: out.finished,
      deadLettered: out.deadLettered,
      idleChecks: out.idleChecks,
    });
    return out;
  },
);
