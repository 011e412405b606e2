import { clinikoFor, log, runtime } from '../shared/runtime.js';
import { type ReportInput, type ReportOutput, writeReport } from './report.js';

export const handler = async (event: ReportInput): Promise<ReportOutput> => {
  const rt = runtime();
  const make = clinikoFor();
  const out = await writeReport(event, {
    ...rt,
    cliniko: async (run) => make(await rt.secrets.credentials(run.clinicId), 0, run.clinikoUsers[0]),
  });
  log.info('report', { runId: event.runId, status: out.status, failed: out.failed });
  return out;
};
