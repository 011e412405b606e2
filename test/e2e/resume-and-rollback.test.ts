import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { NO_FAULTS } from '../../apps/sandbox/faults.js';
import { type Sandbox, startSandbox } from '../../apps/sandbox/server.js';
import type { RunReport } from '../../src/report/run-report.js';
import { cli } from '../support/cli.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { clinicSeed } from '../support/sandbox.js';
import { spawnCli } from '../support/spawn-cli.js';

/**
 * Issue 23, as an operator meets it, no mocks: a live run stopped with Ctrl-C and started again
 * with the same command is one run (one id, one report, one rollback of everything it wrote):
 * the rollback of the resumed run covers both of its parts.
 */
const KEY = 'ResumeRunKey00000000000000001-au1';
const PATIENTS = 6;

let sandbox: Sandbox;
let stateDir: string;
let outDir: string;
let zip: string;

beforeAll(async () => {
  process.env.CLINIKO_API_KEY = KEY;
  stateDir = join(await tempDir('resume-state-'), 'state');
  outDir = join(await tempDir('resume-out-'), 'run');
  const ids = Array.from({ length: PATIENTS }, (_, i) => i + 1);
  const files: Record<string, string> = {
    ...(BASE as Record<string, string>),
    'Clients.csv': csv(
      'ClientId,FirstName,LastName,DateOfBirth',
      ...ids.map((n) => `C${n},Client${n},Lee,12/03/198${n}`),
    ),
    'Appointments.csv': csv(
      'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId',
      ...ids.map((n) => `A${n},C${n},P1,${String(n).padStart(2, '0')}/05/2024,09:30,T1,L1`),
    ),
    'Letters.csv': csv(
      'LetterId,ClientId,LetterDate,Subject,FilePath',
      ...ids.map((n) => `D${n},C${n},02/05/2024,Referral ${n},letters/d${n}.txt`),
    ),
  };
  for (const n of ids) files[`letters/d${n}.txt`] = `Letter ${n}`;
  zip = await writeZip(files);
  sandbox = await startSandbox({
    rateLimit: 0,
    attachmentProcessingMs: 10,
    seed: clinicSeed(KEY, { id: '700023', name: 'Clinic 700023' }),
  });
});

afterAll(async () => {
  delete process.env.CLINIKO_API_KEY;
  await sandbox?.close();
});

const runArgs = () => [
  'run',
  zip,
  '--mode',
  'live',
  '--cliniko-url',
  sandbox.baseUrl,
  '--state-dir',
  stateDir,
  '--out',
  outDir,
];
const active = (
  table: 'patients' | 'individual_appointments' | 'patient_attachments' | 'appointment_types',
) => sandbox.state.count(table, (r) => !r.archived_at);
const written = () => active('patients') + active('individual_appointments') + active('patient_attachments');

describe('a resumed run stays one run', () => {
  let runId = '';

  it('Ctrl-C, then the same command: one run id, every record once, status shows its course', async () => {
    // slow answers, so Ctrl-C lands while the patients are being written
    sandbox.faults = { ...NO_FAULTS, latencyMs: 400 };
    const first = spawnCli(runArgs(), {
      cwd: await tempDir('resume-cwd-'),
      env: { ...process.env, CLINIKO_API_KEY: KEY },
    });
    const started = Date.now();
    while (active('patients') < 2 && Date.now() - started < 120_000)
      await new Promise((r) => setTimeout(r, 50));
    first.child.kill('SIGINT');
    const stopped = await first;
    expect(stopped.code).toBe(130);
    expect(stopped.err).toContain('recorded interrupted');
    runId = /run (run-[0-9a-f]+) stopped/.exec(stopped.err)?.[1] ?? '';
    expect(runId).not.toBe('');
    const before = written();
    expect(before).toBeLessThan(3 * PATIENTS);

    sandbox.faults = { ...NO_FAULTS };
    const resumed = await cli(...runArgs());
    expect(resumed.err).toBe('');
    expect(resumed.code).toBe(0);
    expect(resumed.out).toContain(`Resuming run ${runId}`);
    const report = JSON.parse(readFileSync(join(outDir, 'report.json'), 'utf8')) as RunReport;
    expect(report.runId).toBe(runId);
    // everything the run wrote, before and after the interruption, is counted as its own
    for (const entity of ['patients', 'appointments', 'letters'] as const)
      expect(report.entities[entity]).toMatchObject({ created: PATIENTS, alreadyPresent: 0, failed: 0 });
    expect(active('patients')).toBe(PATIENTS);
    expect(active('individual_appointments')).toBe(PATIENTS);
    expect(active('patient_attachments')).toBe(PATIENTS);

    const status = await cli('status', runId, '--state-dir', stateDir);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/Course: started [^;]+; interrupted [^;]+; resumed [^;]+; finished /);
    expect(status.out).not.toContain('run the same command again');

    // one rollback covers the run's two parts: every record it wrote
    const preview = await cli(
      'rollback',
      runId,
      '--dry-run',
      '--state-dir',
      stateDir,
      '--cliniko-url',
      sandbox.baseUrl,
    );
    expect(preview.code).toBe(0);
    const types = sandbox.state.count('appointment_types');
    expect(preview.out).toContain(`would archive ${3 * PATIENTS + types};`);
    // every rollback keeps its own report, numbered: a second leaves the first in place
    const firstReport = readFileSync(join(outDir, 'rollback-1.json'), 'utf8');
    const again = await cli(
      'rollback',
      runId,
      '--dry-run',
      '--state-dir',
      stateDir,
      '--cliniko-url',
      sandbox.baseUrl,
    );
    expect(again.out).toContain(join(outDir, 'rollback-2.json'));
    expect(readFileSync(join(outDir, 'rollback-1.json'), 'utf8')).toBe(firstReport);
  }, 400_000);
});
