import { clinikoFor, log, runtime } from '../shared/runtime.js';
import { stepHandler } from '../shared/step.js';
import { ReportInput, ReportOutput } from './io.js';
import { writeReport } from './report.js';

export const handler = stepHandler('Report', { input: ReportInput, output: ReportOutput }, async (event) => {
  const rt = runtime();
  const make = clinikoFor();
  const out = await writeReport(event, {
    ...rt,
    region: process.env.AWS_REGION,
    cliniko: async (run) => make(await rt.secrets.credentials(run.clinicId), 0, run.clinikoUsers[0]),
  });
  log.info('report', { runId: event.runId, status: out.status, failed: out.failed });
  return out;
});
