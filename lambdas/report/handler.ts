import { endClinicHold, endLease } from '../shared/lease.js';
import { clinikoFor, log, runtime } from '../shared/runtime.js';
import { stepHandler } from '../shared/step.js';
import { ReportInput, ReportOutput } from './io.js';
import { writeReport } from './report.js';

export const handler = stepHandler('Report', { input: ReportInput, output: ReportOutput }, async (event) => {
  const rt = runtime();
  const make = clinikoFor();
  try {
    const out = await writeReport(event, {
      ...rt,
      region: process.env.AWS_REGION,
      cliniko: async (run) => make(await rt.secrets.credentials(run.clinicId), 0, run.clinikoUsers[0]),
    });
    log.info('report', { runId: event.runId, status: out.status, failed: out.failed });
    return out;
  } finally {
    try {
      // The run is over, whatever its outcome: the account's lease goes with it. A run Preflight
      // refused, or that stopped before it was recorded, took none.
      if (!event.failures?.length) {
        const run = await rt.store.getRun(event.runId).catch(() => undefined);
        if (run) await endLease(run);
      }
    } finally {
      // One run per clinic (issue 23): the clinic is free for its next export, whatever the outcome.
      await endClinicHold(event.clinicId, event.runId);
    }
  }
});
