import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport, sandboxSeedForGenerated } from '../apps/generate/generate-export.js';
import { runLocal } from '../apps/local/run-local.js';
import { startSandbox } from '../apps/sandbox/server.js';
import { ENTITY_KEYS } from '../src/core/entities.js';

/**
 * A live run of a generated 2,000-patient export through the local pipeline into the sandbox.
 * Prints Cliniko requests per written record by entity (target 1.0 for patients, contacts,
 * appointment types and appointments, plus at most one per patient for alerts or referral), the
 * achieved request rate over the rate limit (target ≥ 0.9), the share of 429 answers (< 1%), and
 * writer handler time per written record. The limit is raised above Cliniko's 200/min (same
 * mechanism, shorter run); BENCH_RATE_LIMIT sets it.
 */
function entityOf(method: string, path: string): string {
  if (method === 'POST' && path === '/v1/patients') return 'patients';
  if (
    (method === 'POST' && path === '/v1/medical_alerts') ||
    path.endsWith('/referral_source') ||
    path === '/v1/referral_source_types'
  )
    return 'patient extras';
  if (method === 'POST' && path === '/v1/contacts') return 'contacts';
  if (method === 'POST' && path === '/v1/appointment_types') return 'appointmentTypes';
  if (method === 'POST' && path === '/v1/individual_appointments') return 'appointments';
  if (path.endsWith('/cancel') || path.startsWith('/v1/attendees') || path.endsWith('/attendees'))
    return 'appointment extras';
  if (path.endsWith('/attachment_presigned_post') || path.startsWith('/v1/patient_attachments'))
    return 'attachments';
  return 'reads';
}

export async function pipelineBench(): Promise<Record<string, number>> {
  const patients = Number(process.env.BENCH_PATIENTS ?? 2000);
  const limit = Number(process.env.BENCH_RATE_LIMIT ?? 3000);
  const dir = mkdtempSync(join(tmpdir(), 'bench-pipeline-'));
  const exportZip = join(dir, 'export.zip');
  await generateExport(exportZip, {
    patients,
    appointmentsPerPatient: Number(process.env.BENCH_APPOINTMENTS_PER_PATIENT ?? 5),
    seed: 3,
  });
  const key = 'BenchPipelineKey00000000000001-au1';
  const requests = new Map<string, number>();
  /** Requests per second of the run, and the seconds in which writers were writing. */
  const perSecond = new Map<number, number>();
  const writing = new Set<number>();
  let total = 0;
  let limited = 0;
  const sandbox = await startSandbox({
    rateLimit: limit,
    seed: sandboxSeedForGenerated(key),
    observe: (method, path, status, at) => {
      const entity = entityOf(method, path);
      requests.set(entity, (requests.get(entity) ?? 0) + 1);
      total++;
      if (status === 429) limited++;
      const second = Math.floor(at / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
      if (entity !== 'reads') writing.add(second);
    },
  });
  let handlerMs = 0;
  try {
    const started = Date.now();
    const result = await runLocal(
      {
        exportZip,
        mode: 'live',
        credentials: { apiKeys: [key], baseUrl: sandbox.baseUrl },
        rateLimitPerMinute: limit,
        writerConcurrency: 4,
        batchSize: 500,
        onWriterInvoke: (ms) => {
          handlerMs += ms;
        },
      },
      (runId) => join(dir, runId),
    );
    const seconds = (Date.now() - started) / 1000;
    const e = result.report.entities;
    const written = ENTITY_KEYS.reduce((n, k) => n + e[k].created, 0);
    const perRecord = (entity: string, n: number) => (n ? (requests.get(entity) ?? 0) / n : 0);
    const figures = {
      patients: perRecord('patients', e.patients.created),
      patientExtras: perRecord('patient extras', e.patients.created),
      contacts: perRecord('contacts', e.contacts.created),
      appointmentTypes: perRecord('appointmentTypes', e.appointmentTypes.created + 1),
      appointments: perRecord('appointments', e.appointments.created),
      appointmentExtras: perRecord('appointment extras', e.appointments.created),
      // Between phases nothing is written (mapping, polling): the rate is judged while writers write.
      achievedRateOverLimit:
        [...writing].reduce((n, s) => n + (perSecond.get(s) ?? 0), 0) / (writing.size * (limit / 60)),
      share429: limited / total,
      handlerMsPerWrittenRecord: handlerMs / written,
      written,
      seconds,
    };
    console.log(
      `${written.toLocaleString('en-US')} records written in ${seconds.toFixed(0)} s at a limit of ${limit}/min; ${total.toLocaleString('en-US')} Cliniko requests`,
    );
    console.log(
      `requests per written record: patients ${figures.patients.toFixed(2)} (+${figures.patientExtras.toFixed(2)} alerts/referral), contacts ${figures.contacts.toFixed(2)}, appointment types ${figures.appointmentTypes.toFixed(2)}, appointments ${figures.appointments.toFixed(2)} (+${figures.appointmentExtras.toFixed(2)} cancellations/did-not-arrive)`,
    );
    // Reconciliation (issue 11): its reads in this first live run, and in the same export run again
    // after the state is lost (everything is in the account and must be read back), both against
    // the first run's requests. Target < 3%.
    const reconcileFirst = result.report.cliniko.reconciliationRequests ?? 0;
    const firstTotal = total;
    const again = await runLocal(
      {
        exportZip,
        mode: 'live',
        credentials: { apiKeys: [key], baseUrl: sandbox.baseUrl },
        rateLimitPerMinute: limit,
        writerConcurrency: 4,
        batchSize: 500,
      },
      (runId) => join(dir, runId),
    );
    const reconcileAgain = again.report.cliniko.reconciliationRequests ?? 0;
    Object.assign(figures, {
      reconciliationShareFirstRun: reconcileFirst / firstTotal,
      reconciliationShareStateLost: reconcileAgain / firstTotal,
      createdWhenStateLost: ENTITY_KEYS.reduce((n, k) => n + again.report.entities[k].created, 0),
    });
    console.log(
      `reconciliation: ${reconcileFirst} requests in the first live run (${((reconcileFirst / firstTotal) * 100).toFixed(2)}% of its ${firstTotal}); ${reconcileAgain} when the same export runs again with its state lost (${((reconcileAgain / firstTotal) * 100).toFixed(2)}% of the first run's requests; target < 3%), which created ${ENTITY_KEYS.reduce((n, k) => n + again.report.entities[k].created, 0)} records`,
    );
    console.log(
      `achieved rate / limit ${figures.achievedRateOverLimit.toFixed(3)} (target ≥ 0.9); 429 share ${(figures.share429 * 100).toFixed(2)}% (target < 1%); writer handler time ${figures.handlerMsPerWrittenRecord.toFixed(1)} ms per written record`,
    );
    return figures;
  } finally {
    await sandbox.close();
  }
}
