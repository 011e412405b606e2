import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import type { Sandbox } from '../../apps/sandbox/server.js';
import type { RunReport } from '../../src/report/run-report.js';
import { cli } from '../support/cli.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { clinicSandbox } from '../support/sandbox.js';

/**
 * The clinic's process through the command line: dry run → approve → live run (which refuses
 * until approved) → a later export of the same clinic with 10 new clients, 5 changed and 3
 * removed → the delta run creates 10, updates 5, reports 3 as missing, and duplicates nothing.
 */
const KEY = 'DeltaRunKey00000000000000000001-au1';

const client = (n: number, changed = false) =>
  `C${n},Client${n},Lee,${changed ? `new${n}@example.com` : `c${n}@example.com`},${changed ? '021 555 0' : '021 000 0'}${String(n).padStart(3, '0')},12/03/198${n % 10}`;
const appointment = (n: number) =>
  `A${n},C${n},P1,${String((n % 27) + 1).padStart(2, '0')}/05/2024,09:30,T1,L1`;
const note = (n: number) =>
  `N${n},C${n},${String((n % 27) + 1).padStart(2, '0')}/05/2024,Treatment,"Knee review for client ${n}; ice and rest."`;

function exportOf(clients: number[], changed: number[] = []) {
  return writeZip({
    ...BASE,
    'Clients.csv': csv(
      'ClientId,FirstName,LastName,Email,MobilePhone,DateOfBirth',
      ...clients.map((n) => client(n, changed.includes(n))),
    ),
    'Appointments.csv': csv(
      'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId',
      ...clients.map(appointment),
    ),
    'ClinicalNotes.csv': csv('NoteId,ClientId,NoteDate,NoteType,Body', ...clients.map(note)),
  });
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

let sandbox: Sandbox;
let stateDir: string;
let outDir: string;
let first: string;
let later: string;

const run = (zip: string, mode: string, name: string, ...more: string[]) =>
  cli(
    'run',
    zip,
    '--mode',
    mode,
    '--cliniko-url',
    sandbox.baseUrl,
    '--state-dir',
    stateDir,
    '--out',
    join(outDir, name),
    ...more,
  );

const report = (name: string) =>
  JSON.parse(readFileSync(join(outDir, name, 'report.json'), 'utf8')) as RunReport;

beforeAll(async () => {
  sandbox = await clinicSandbox(KEY);
  process.env.CLINIKO_API_KEY = KEY;
  stateDir = join(await tempDir('state-'), 'cliniko-migrate');
  outDir = await tempDir('out-');
  first = await exportOf(range(1, 20));
  later = await exportOf([...range(1, 17), ...range(21, 30)], range(1, 5));
});

afterAll(async () => {
  delete process.env.CLINIKO_API_KEY;
  await sandbox?.close();
});

// Each step is a whole pipeline run on the local emulators.
jest.setTimeout(180_000);

describe('dry run, sign-off, live run, delta run', () => {
  let dryRunId = '';

  it('a dry run writes nothing and says how to approve it', async () => {
    const dry = await run(first, 'dry-run', 'dry');
    expect(dry.code).toBe(0);
    dryRunId = /approve (run-[0-9a-f]+)/.exec(dry.out)?.[1] ?? '';
    expect(dryRunId).not.toBe('');
    expect(report('dry').entities.patients).toMatchObject({ source: 20, planned: 20, created: 0 });
    // the approval aids, from the pipeline's batches
    const aids = report('dry').approvalAids;
    expect(aids?.clientSample).toHaveLength(20);
    expect(aids?.clientSample[0]?.asSent).toHaveProperty('old_reference_id');
    expect(aids?.busiestWeek?.appointments).toBeGreaterThan(0);
    expect(aids?.appointmentSample.length).toBeGreaterThan(5);
    expect(aids?.notesByClient.length).toBeGreaterThan(5);
    for (const section of ['dstEdgeCases', 'attachmentsByClient', 'attachmentTotals', 'ambiguousDateColumns'])
      expect(aids).toHaveProperty(section);
    expect(sandbox.state.count('patients')).toBe(0);
  });

  it('a live run that needs approval is refused before it, then goes ahead after it', async () => {
    const refused = await run(first, 'live', 'refused', '--require-approval');
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/no approved dry run/);
    expect(sandbox.state.count('patients')).toBe(0);

    const approved = await cli('approve', dryRunId, '--state-dir', stateDir);
    expect(approved.code).toBe(0);
    expect(approved.out).toContain(dryRunId);

    const live = await run(first, 'live', 'live', '--require-approval');
    expect(live.code).toBe(0);
    const r = report('live');
    expect(r.entities.patients).toMatchObject({ source: 20, created: 20, planned: 0, failed: 0 });
    expect(r.entities.appointments.created).toBe(20);
    expect(r.entities.clinicalNotes.created).toBe(20);
    // the busiest week read back from Cliniko matches the export
    const week = r.approvalAids?.busiestWeek;
    expect(week?.byPractitioner.length).toBeGreaterThan(0);
    for (const p of week?.byPractitioner ?? []) expect(p.cliniko).toBe(p.source);
    for (const l of week?.byLocation ?? []) expect(l.cliniko).toBe(l.source);

    const status = await cli('status', r.runId, '--state-dir', stateDir);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/live of export\.zip, succeeded/);
    expect(status.out).toMatch(/Patients\s+20\s+0\s+20/);
  });

  it('an approval covers only the export it was given: a changed export is refused', async () => {
    const refused = await run(later, 'live', 'refused-later', '--require-approval');
    expect(refused.code).toBe(2);
    expect(sandbox.state.count('patients')).toBe(20);
  });

  it('a later export adds the new, updates the changed, reports the removed, and duplicates nothing', async () => {
    const delta = await run(later, 'live', 'delta');
    expect(delta.code).toBe(0);
    const r = report('delta');
    expect(r.entities.patients).toMatchObject({
      source: 27,
      created: 10,
      alreadyPresent: 17,
      updated: 5,
      missingFromExport: 3,
      failed: 0,
    });
    expect(r.entities.appointments).toMatchObject({ created: 10, alreadyPresent: 17, missingFromExport: 3 });
    expect(r.entities.clinicalNotes).toMatchObject({ created: 10, alreadyPresent: 17, missingFromExport: 3 });
    const missing = r.problems.filter((p) => p.code === 'MISSING_FROM_EXPORT' && p.entity === 'patients');
    expect(missing.map((p) => p.sourceId).sort()).toEqual(['C18', 'C19', 'C20']);

    const patients = sandbox.state.all('patients');
    const refs = patients.map((p) => String(p.old_reference_id));
    expect(refs.length).toBe(30);
    expect(new Set(refs).size).toBe(30);
    expect(patients.find((p) => p.old_reference_id === 'C3')?.email).toBe('new3@example.com');
    expect(patients.find((p) => p.old_reference_id === 'C9')?.email).toBe('c9@example.com');
    // removed clients stay in Cliniko
    expect(refs).toContain('C19');
    expect(sandbox.state.count('individual_appointments')).toBe(30);
    expect(sandbox.state.count('patient_attachments')).toBe(30);
  });
});
