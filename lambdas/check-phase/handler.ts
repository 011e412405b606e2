import { logger, runtime } from '../shared/runtime.js';
import { type CheckPhaseInput, type CheckPhaseOutput, checkPhase } from './check-phase.js';

export const handler = async (event: CheckPhaseInput): Promise<CheckPhaseOutput> => {
  const rt = runtime();
  const out = await checkPhase(event, { store: rt.store, queue: rt.queue() });
  logger.info('phase check', { runId: event.runId, ...out });
  return out;
};
