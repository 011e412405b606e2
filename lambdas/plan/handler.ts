import { log, runtime } from '../shared/runtime.js';
import { stepHandler } from '../shared/step.js';
import { PlanInput, PlanOutput } from './io.js';
import { plan } from './plan.js';

export const handler = stepHandler('Plan', { input: PlanInput, output: PlanOutput }, async (event) => {
  const rt = runtime();
  const out = await plan(event, { ...rt, batchSize: rt.env.batchSize });
  log.info('plan', {
    runId: event.runId,
    batches: {
      setup: out.setup.batches,
      patients: out.patients.batches,
      appointments: out.appointments.batches,
      documents: out.documents.batches,
    },
  });
  return out;
});
