import { log, runtime } from '../shared/runtime.js';
import { type PlanInput, type PlanOutput, plan } from './plan.js';

export const handler = async (event: PlanInput): Promise<PlanOutput> => {
  const rt = runtime();
  const out = await plan(event, { ...rt, batchSize: rt.env.batchSize });
  log.info('plan', {
    runId: event.runId,
    batches: Object.fromEntries(
      Object.entries(out)
        .filter(([k]) => k !== 'runId')
        .map(([k, v]) => [k, (v as string[]).length]),
    ),
  });
  return out;
};
