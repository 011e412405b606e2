import { log, runtime } from '../shared/runtime.js';
import { type ReportInput, type ReportOutput, writeReport } from './report.js';

export const handler = async (event: ReportInput): Promise<ReportOutput> => {
  const out = await writeReport(event, runtime());
  log.info('report', { runId: event.runId, status: out.status, failed: out.failed });
  return out;
};
