import { log, runtime } from '../shared/runtime.js';
import { type CheckPhaseInput, type CheckPhaseOutput, checkPhase } from './check-phase.js';

export const handler = async (event: CheckPhaseInput): Promise<CheckPhaseOutput> => {
  const rt = runtime();
  const out = await checkPhase(event, { store: rt.store, queue: rt.queue() });
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
};
