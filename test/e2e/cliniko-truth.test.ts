import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { SandboxSeed } from '../../apps/sandbox/seed.js';
import { type Sandbox, startSandbox } from '../../apps/sandbox/server.js';
import { attachmentDescription } from '../../src/mapping/attachment-description.js';
import type { RunReport } from '../../src/report/run-report.js';
import { cli } from '../support/cli.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { clinicSeed } from '../support/sandbox.js';

/**
 * Cliniko is the truth (issue 11): what a run believes was written comes from the account it
 * writes to, not from its own state. Every step runs the CLI against sandbox servers, each its own
 * Cliniko account, as a clinic would.
 */
const KEY = 'AccountTruthKey000000000000001-au1';

const seed = (account: string): SandboxSeed => clinicSeed(KEY, { id: account, name: `Clinic ${account}` });

const client = (id: string, n: number) =>
  `${id},Client${n},Lee,c${n}@example.com,021 000 0${String(n).padStart(3, '0')},12/03/198${n % 10}`;
const appointment = (n: number, clientId: string) =>
  `A${n},${clientId},P1,${String((n % 27) + 1).padStart(2, '0')}/05/2024,09:30,T1,L1`;
const letter = (n: number, clientId: string) =>
  `D${n},${clientId},02/05/2024,Referral ${n},letters/d${n}.txt`;

/** Clients `C1`…`Cn` (or the ids given), one appointment and one letter each. */
function exportOf(ids: string[]) {
  const files: Record<string, string> = {
    ...(BASE as Record<string, string>),
    'Clients.csv': csv(
      'ClientId,FirstName,LastName,Email,MobilePhone,DateOfBirth',
      ...ids.map((id, i) => client(id, i + 1)),
    ),
    'Appointments.csv': csv(
      'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId',
      ...ids.map((id, i) => appointment(i + 1, id)),
    ),
    'Letters.csv': csv(
      'LetterId,ClientId,LetterDate,Subject,FilePath',
      ...ids.map((id, i) => letter(i + 1, id)),
    ),
  };
  for (const [i] of ids.entries()) files[`letters/d${i + 1}.txt`] = `Letter ${i + 1}`;
  return writeZip(files);
}

const ids = (n: number, prefix = 'C') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

let outDir: string;
const sandboxes: Sandbox[] = [];

async function account(
  id: string,
  paths?: string[],
  alwaysFail?: (method: string, path: string, body: unknown) => boolean | 504,
): Promise<Sandbox> {
  const s = await startSandbox({
    rateLimit: 100_000,
    attachmentProcessingMs: 10,
    seed: seed(id),
    ...(paths ? { observe: (method: string, path: string) => void paths.push(`${method} ${path}`) } : {}),
    ...(alwaysFail ? { alwaysFail } : {}),
  });
  sandboxes.push(s);
  return s;
}

const run = (sandbox: Sandbox, zip: string, stateDir: string, name: string, ...more: string[]) =>
  cli(
    'run',
    zip,
    '--mode',
    'live',
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

const live = (s: Sandbox, table: Parameters<Sandbox['state']['count']>[0]) =>
  s.state.count(table, (r) => !r.archived_at);

beforeAll(async () => {
  process.env.CLINIKO_API_KEY = KEY;
  outDir = await tempDir('truth-out-');
});

afterAll(async () => {
  delete process.env.CLINIKO_API_KEY;
  for (const s of sandboxes) await s.close();
});

describe('state scoped to the Cliniko account', () => {
  it('a rehearsal in a trial account, then production from the same state: production gets everything', async () => {
    const stateDir = join(await tempDir('truth-state-'), 'state');
    const zip = await exportOf(ids(6));
    const trial = await account('700001');
    const productionRequests: string[] = [];
    const production = await account('700002', productionRequests);

    const rehearsal = await run(trial, zip, stateDir, 'trial');
    expect(rehearsal.code).toBe(0);
    expect(rehearsal.out).toContain('Clinic 700001');
    expect(report('trial').entities.patients.created).toBe(6);

    const real = await run(production, zip, stateDir, 'production');
    expect(real.code).toBe(0);
    expect(real.out).toContain('Clinic 700002');
    const r = report('production');
    expect(r.cliniko.account).toMatchObject({ shard: 'au1', businesses: ['Auckland Central'], id: '700002' });
    for (const entity of ['patients', 'appointments', 'letters'] as const)
      expect(r.entities[entity]).toMatchObject({ source: 6, created: 6, alreadyPresent: 0, failed: 0 });
    expect(live(production, 'patients')).toBe(6);
    expect(live(production, 'individual_appointments')).toBe(6);
    expect(live(production, 'patient_attachments')).toBe(6);
    // no request named a record of the trial account, and none was refused
    const trialIds = [
      'patients',
      'individual_appointments',
      'patient_attachments',
      'appointment_types',
    ].flatMap((t) => trial.state.all(t as 'patients').map((rec) => rec.id));
    expect(trialIds.length).toBeGreaterThan(18);
    for (const line of productionRequests) for (const id of trialIds) expect(line).not.toContain(id);
    expect(Object.keys(r.cliniko.byStatus).filter((s) => s.startsWith('4'))).toEqual([]);

    const status = await cli('status', r.runId, '--state-dir', stateDir);
    expect(status.out).toMatch(/Cliniko account Clinic 700002 \(au1, id 700002: Auckland Central\)/);
  }, 240_000);
});

describe('the account is the truth, the state a cache', () => {
  it('the same export after the state is lost creates nothing and counts everything present', async () => {
    const zip = await exportOf(ids(5));
    const clinic = await account('700003');
    const first = await run(clinic, zip, join(await tempDir('truth-state-'), 'state'), 'lost-1');
    expect(first.code).toBe(0);
    const before = {
      patients: clinic.state.count('patients'),
      appointments: clinic.state.count('individual_appointments'),
      attachments: clinic.state.count('patient_attachments'),
      types: clinic.state.count('appointment_types'),
    };
    // a new laptop: an empty state folder
    const again = await run(clinic, zip, join(await tempDir('truth-state-'), 'state'), 'lost-2');
    expect(again.code).toBe(0);
    const r = report('lost-2');
    for (const entity of ['patients', 'appointments', 'letters', 'appointmentTypes'] as const)
      expect({ entity, counts: r.entities[entity] }).toMatchObject({
        entity,
        counts: {
          created: 0,
          failed: 0,
          alreadyPresent: r.entities[entity].source - r.entities[entity].skipped - r.entities[entity].invalid,
        },
      });
    expect(r.entities.patients.alreadyPresent).toBe(5);
    expect(r.entities.appointments.alreadyPresent).toBe(5);
    expect({
      patients: clinic.state.count('patients'),
      appointments: clinic.state.count('individual_appointments'),
      attachments: clinic.state.count('patient_attachments'),
      types: clinic.state.count('appointment_types'),
    }).toEqual(before);
    expect(r.reconciliation?.patients).toMatchObject({ read: 5, found: 5 });
    expect(r.cliniko.reconciliationRequests).toBeGreaterThan(0);
  }, 300_000);

  it('a cached id deleted or archived in Cliniko is written again and reported, never counted present', async () => {
    const stateDir = join(await tempDir('truth-state-'), 'state');
    const zip = await exportOf(ids(4));
    const clinic = await account('700004');
    expect((await run(clinic, zip, stateDir, 'gone-1')).code).toBe(0);
    const byRef = (ref: string) => clinic.state.all('patients').find((p) => p.old_reference_id === ref);
    const deleted = byRef('C2');
    const archived = byRef('C3');
    if (!deleted || !archived) throw new Error('patients were not written');
    // C2 removed outright (with its appointment and letter), C3 archived through the API
    clinic.state.remove('patients', deleted.id);
    for (const t of ['individual_appointments', 'patient_attachments'] as const)
      for (const rec of clinic.state.all(t))
        if (JSON.stringify(rec).includes(`/patients/${deleted.id}`) || rec.patient_id === deleted.id)
          clinic.state.remove(t, rec.id);
    clinic.state.update('patients', archived.id, { archived_at: clinic.state.now() });

    expect((await run(clinic, zip, stateDir, 'gone-2')).code).toBe(0);
    const r = report('gone-2');
    expect(r.entities.patients).toMatchObject({ source: 4, created: 2, alreadyPresent: 2, failed: 0 });
    const reported = r.problems.filter((p) => p.code === 'NOT_IN_CLINIKO' && p.entity === 'patients');
    expect(reported.map((p) => p.sourceId).sort()).toEqual(['C2', 'C3']);
    const live = clinic.state.all('patients').filter((p) => !p.archived_at);
    expect(live.map((p) => p.old_reference_id).sort()).toEqual(['C1', 'C2', 'C3', 'C4']);
    // their appointments and letters go with them: written again under the patients written again
    expect(r.entities.appointments).toMatchObject({ created: 2, alreadyPresent: 2, failed: 0 });
    expect(r.entities.letters).toMatchObject({ created: 2, alreadyPresent: 2, failed: 0 });
    const c3 = clinic.state.all('patients').find((p) => p.old_reference_id === 'C3' && !p.archived_at);
    expect(
      clinic.state.all('individual_appointments').filter((a) => JSON.stringify(a).includes(`${c3?.id}`)),
    ).toHaveLength(1);
  }, 300_000);
});

describe('probable duplicates', () => {
  const config = async (existingPatients: string) => {
    const path = join(await tempDir('truth-config-'), 'migration.json');
    writeFileSync(path, JSON.stringify({ existingPatients }));
    return path;
  };
  const named = (s: Sandbox, first: string) =>
    s.state.all('patients').filter((p) => p.first_name === first && !p.archived_at);
  const appointmentsOf = (s: Sandbox, patientId: string) =>
    s.state.all('individual_appointments').filter((a) => String(a.patient_id) === patientId);

  it('a patient entered by hand is reported, held back with its records, and adopted with "link"', async () => {
    const stateDir = join(await tempDir('truth-state-'), 'state');
    const zip = await exportOf(ids(3));
    const clinic = await account('700005');
    // entered at the front desk before the transfer: same name, birth date and e-mail as C2
    const byHand = clinic.state.insert('patients', {
      first_name: 'Client2',
      last_name: 'Lee',
      date_of_birth: '1982-03-12',
      email: 'c2@example.com',
      old_reference_id: null,
      archived_at: null,
    });

    expect((await run(clinic, zip, stateDir, 'hand-report')).code).toBe(0);
    const r = report('hand-report');
    const dup = r.problems.find((p) => p.code === 'PROBABLE_DUPLICATE');
    expect(dup).toMatchObject({ entity: 'patients', sourceId: 'C2', file: 'Clients.csv', row: 3 });
    expect(dup?.message).toContain(byHand.id);
    expect(r.entities.patients).toMatchObject({ source: 3, created: 2, skipped: 1 });
    expect(r.entities.appointments).toMatchObject({ created: 2, skipped: 1 });
    expect(r.entities.letters).toMatchObject({ created: 2, skipped: 1 });
    expect(named(clinic, 'Client2')).toHaveLength(1);
    expect(appointmentsOf(clinic, byHand.id)).toHaveLength(0);

    // the dry run lists it too, before sign-off
    const dry = await cli(
      'run',
      zip,
      '--mode',
      'dry-run',
      '--cliniko-url',
      clinic.baseUrl,
      '--state-dir',
      stateDir,
      '--out',
      join(outDir, 'hand-dry'),
    );
    expect(dry.code).toBe(0);
    expect(
      report('hand-dry')
        .problems.filter((p) => p.code === 'PROBABLE_DUPLICATE')
        .map((p) => p.sourceId),
    ).toEqual(['C2']);

    expect((await run(clinic, zip, stateDir, 'hand-link', '--config', await config('link'))).code).toBe(0);
    const l = report('hand-link');
    expect(l.entities.patients).toMatchObject({ created: 0, alreadyPresent: 3 });
    expect(l.entities.appointments).toMatchObject({ created: 1, alreadyPresent: 2 });
    expect(named(clinic, 'Client2')).toHaveLength(1);
    expect(clinic.state.get('patients', byHand.id)?.old_reference_id).toBe('C2');
    expect(appointmentsOf(clinic, byHand.id)).toHaveLength(1);
    expect(clinic.state.count('patients')).toBe(3);
  }, 400_000);

  it('a client id that lost its leading zeros is reported, nothing moves; "create" creates it', async () => {
    const stateDir = join(await tempDir('truth-state-'), 'state');
    const clinic = await account('700006');
    expect((await run(clinic, await exportOf(['00123', '00124']), stateDir, 'zeros-1')).code).toBe(0);
    const original = clinic.state.all('patients').find((p) => p.old_reference_id === '00123');
    if (!original) throw new Error('00123 was not written');
    const before = appointmentsOf(clinic, original.id).map((a) => a.id);
    expect(before).toHaveLength(1);

    // the spreadsheet dropped the zeros of one client
    const later = await exportOf(['123', '00124']);
    expect((await run(clinic, later, stateDir, 'zeros-2')).code).toBe(0);
    const r = report('zeros-2');
    const dup = r.problems.find((p) => p.code === 'PROBABLE_DUPLICATE');
    expect(dup).toMatchObject({ sourceId: '123', file: 'Clients.csv', row: 2 });
    expect(dup?.message).toContain(original.id);
    expect(dup?.message).toContain('00123');
    expect(named(clinic, 'Client1')).toHaveLength(1);
    expect(appointmentsOf(clinic, original.id).map((a) => a.id)).toEqual(before);
    expect(r.entities.appointments.created).toBe(0);

    expect(
      (await run(clinic, later, stateDir, 'zeros-create', '--config', await config('create'))).code,
    ).toBe(0);
    const c = report('zeros-create');
    expect(c.entities.patients).toMatchObject({ created: 1, alreadyPresent: 1 });
    expect(
      named(clinic, 'Client1')
        .map((p) => p.old_reference_id)
        .sort(),
    ).toEqual(['00123', '123']);
    const created = named(clinic, 'Client1').find((p) => p.old_reference_id === '123');
    if (!created) throw new Error('123 was not created');
    const noted = c.problems.find((p) => p.code === 'PROBABLE_DUPLICATE_CREATED');
    expect(noted).toMatchObject({ sourceId: '123', file: 'Clients.csv', row: 2, severity: 'warning' });
    expect(noted?.message).toContain(original.id);
    // the appointment Cliniko holds under the first patient stays there, and the report says so
    expect(appointmentsOf(clinic, original.id).map((a) => a.id)).toEqual(before);
    expect(appointmentsOf(clinic, created.id)).toEqual([]);
    expect(clinic.state.count('individual_appointments')).toBe(2);
    const kept = c.problems.find((p) => p.code === 'APPOINTMENT_PATIENT_CHANGED');
    expect(kept).toMatchObject({
      entity: 'appointments',
      sourceId: 'A1',
      file: 'Appointments.csv',
      row: 2,
      field: 'ClientId',
      severity: 'warning',
    });
    expect(kept?.message).toContain(original.id);
    expect(kept?.message).toContain(created.id);
    expect(kept?.message).toContain('123');
    expect(c.entities.appointments).toMatchObject({ created: 0, failed: 0 });
  }, 400_000);
  it('a client id that lost its leading zeros, with "link": adopted, its appointment stays where it is', async () => {
    const stateDir = join(await tempDir('truth-state-'), 'state');
    const clinic = await account('700009');
    expect((await run(clinic, await exportOf(['00123', '00124']), stateDir, 'zeros-link-1')).code).toBe(0);
    const original = clinic.state.all('patients').find((p) => p.old_reference_id === '00123');
    if (!original) throw new Error('00123 was not written');
    const before = appointmentsOf(clinic, original.id).map((a) => a.id);
    expect(before).toHaveLength(1);

    const later = await exportOf(['123', '00124']);
    expect((await run(clinic, later, stateDir, 'zeros-link', '--config', await config('link'))).code).toBe(0);
    const r = report('zeros-link');
    const linked = r.problems.find((p) => p.code === 'LINKED_TO_EXISTING');
    expect(linked).toMatchObject({ sourceId: '123', file: 'Clients.csv', row: 2 });
    expect(linked?.message).toContain(original.id);
    expect(r.entities.patients).toMatchObject({ created: 0, alreadyPresent: 2, failed: 0 });
    expect(r.entities.appointments).toMatchObject({ created: 0, failed: 0 });
    expect(named(clinic, 'Client1')).toHaveLength(1);
    // the patient keeps the source id it was written under; its appointment is not moved
    expect(clinic.state.get('patients', original.id)?.old_reference_id).toBe('00123');
    expect(appointmentsOf(clinic, original.id).map((a) => a.id)).toEqual(before);
    expect(clinic.state.count('individual_appointments')).toBe(2);
    expect(r.problems.filter((p) => p.code === 'APPOINTMENT_PATIENT_CHANGED')).toEqual([]);
  }, 400_000);
});

describe('rollback', () => {
  it('archives what a live run created and nothing else, keeps what was edited since and what it depends on, and does nothing the second time', async () => {
    const stateDir = join(await tempDir('truth-state-'), 'state');
    const clinic = await account('700007');
    const walkIn = clinic.state.insert('patients', {
      first_name: 'Walk',
      last_name: 'In',
      date_of_birth: '1990-01-01',
      old_reference_id: null,
      archived_at: null,
    });
    expect((await run(clinic, await exportOf(ids(5)), stateDir, 'rb-live')).code).toBe(0);
    const live = report('rb-live');
    const createdCount = ['patients', 'appointments', 'letters', 'appointmentTypes'].reduce(
      (n, k) => n + live.entities[k as 'patients'].created,
      0,
    );
    expect(createdCount).toBe(16);
    const patient = (sourceId: string) => {
      const found = clinic.state.all('patients').find((p) => p.old_reference_id === sourceId);
      if (!found) throw new Error(`${sourceId} was not written`);
      return found;
    };
    const appointmentsOf = (patientId: string) =>
      clinic.state.all('individual_appointments').filter((a) => String(a.patient_id) === patientId);
    const [edited, booked, c3, c4, c5] = [
      patient('C1'),
      patient('C2'),
      patient('C3'),
      patient('C4'),
      patient('C5'),
    ];
    const [bookedAppointment] = appointmentsOf(booked.id);
    const [c3Appointment] = appointmentsOf(c3.id);
    if (!bookedAppointment || !c3Appointment) throw new Error('the appointments were not written');
    const type = String(bookedAppointment.appointment_type_id);
    await new Promise((r) => setTimeout(r, 1100));
    // after the run: C1 changed at the front desk, C2's appointment moved in Cliniko, a
    // clinician books C3 again, of the run's appointment type, and records an alert for C5
    clinic.state.update('patients', edited.id, { notes: 'Changed at the front desk' });
    clinic.state.update('individual_appointments', bookedAppointment.id, { notes: 'Moved by phone' });
    const clinicians = clinic.state.insert('individual_appointments', {
      patient_id: c3.id,
      practitioner_id: c3Appointment.practitioner_id,
      business_id: c3Appointment.business_id,
      appointment_type_id: type,
      starts_at: '2024-06-03T21:30:00Z',
      ends_at: '2024-06-03T22:00:00Z',
      archived_at: null,
      cancelled_at: null,
    });
    const alert = clinic.state.insert('medical_alerts', { patient_id: c5.id, name: 'Penicillin allergy' });

    const rollback = (...more: string[]) =>
      cli('rollback', live.runId, '--state-dir', stateDir, '--cliniko-url', clinic.baseUrl, ...more);
    const active = (
      t: 'patients' | 'individual_appointments' | 'patient_attachments' | 'appointment_types',
    ) => clinic.state.count(t, (r) => !r.archived_at);

    const preview = await rollback('--dry-run');
    expect(preview.code).toBe(0);
    expect(preview.out).toMatch(
      /would archive 10; .*changed after the run \(left\) 2; .*kept because a record left in Cliniko references it 4/,
    );
    expect(active('patients')).toBe(6);

    const done = await rollback();
    expect(done.code).toBe(0);
    expect(done.out).toMatch(
      /archived 10; already archived 0; changed after the run \(left\) 2; there before the run \(left\) 0; kept because a record left in Cliniko references it 4 \(2 for this run's own, 2 for records it did not create\)/,
    );
    expect(done.out).toContain(edited.id);
    // the dry run's report is rollback-1, this one's rollback-2
    expect(done.out).toContain(join(outDir, 'rb-live', 'rollback-2.json'));
    const written = JSON.parse(readFileSync(join(outDir, 'rb-live', 'rollback-2.json'), 'utf8')) as {
      items: { resource: string; outcome: string; clinikoId: string; reason?: string; keptFor?: string }[];
    };
    // newest dependants first
    const order = written.items.map((i) => i.resource);
    expect(order.indexOf('attachments')).toBeLessThan(order.indexOf('appointments'));
    expect(order.lastIndexOf('appointments')).toBeLessThan(order.indexOf('patients'));
    expect(order.lastIndexOf('patients')).toBeLessThan(order.indexOf('appointmentTypes'));
    // the moved appointment keeps its patient and its appointment type, each saying why
    const item = (id: string) => written.items.find((i) => i.clinikoId === id);
    const byMoved = `kept because appointment ${bookedAppointment.id} that references it was changed in Cliniko after the run`;
    expect(item(bookedAppointment.id)).toMatchObject({ resource: 'appointments', outcome: 'changed' });
    expect(item(booked.id)).toMatchObject({
      resource: 'patients',
      outcome: 'kept',
      reason: byMoved,
      keptFor: 'runRecord',
    });
    expect(item(type)).toMatchObject({ resource: 'appointmentTypes', outcome: 'kept', reason: byMoved });
    // the clinician's appointment keeps the patient it is for
    expect(item(c3.id)).toMatchObject({
      outcome: 'kept',
      keptFor: 'otherRecord',
      reason: `kept because appointment ${clinicians.id}, which this run did not create, references it in Cliniko`,
    });
    // so does the medical alert a clinician recorded, in a resource no run writes
    expect(item(c5.id)).toMatchObject({
      outcome: 'kept',
      keptFor: 'otherRecord',
      reason: `kept because medical alert ${alert.id}, which this run did not create, references it in Cliniko`,
    });
    expect(done.out).toContain(`kept: patients ${c5.id} (source C5)`);
    expect(item(c4.id)).toMatchObject({ outcome: 'archived' });
    const csvOut = readFileSync(join(outDir, 'rb-live', 'rollback-2.csv'), 'utf8');
    expect(csvOut).toContain(`patients,patients,C2,${booked.id},kept,`);
    expect(csvOut).toContain(byMoved);
    expect(done.out).toContain(`kept: patients ${booked.id} (source C2): ${byMoved}`);
    // only what is kept and the clinic's own remain; archived copies, not deletions
    expect(
      clinic.state
        .all('patients')
        .filter((p) => !p.archived_at)
        .map((p) => p.id)
        .sort(),
    ).toEqual([edited.id, booked.id, c3.id, c5.id, walkIn.id].sort());
    expect(clinic.state.count('patients')).toBe(6);
    expect(
      clinic.state
        .all('individual_appointments')
        .filter((a) => !a.archived_at)
        .map((a) => a.id)
        .sort(),
    ).toEqual([bookedAppointment.id, clinicians.id].sort());
    expect(active('patient_attachments')).toBe(0);
    expect(active('appointment_types')).toBe(1);
    expect(clinic.state.count('businesses', (b) => !b.archived_at)).toBe(1);
    expect(clinic.state.count('practitioners')).toBe(2);

    const again = await rollback();
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/archived 0; already archived 10; changed after the run \(left\) 2/);

    // --force archives what was changed, and then what only it kept; never what the clinic's own
    // records still reference
    const forced = await rollback('--force');
    expect(forced.out).toMatch(
      /archived 3; already archived 10; .*kept because a record left in Cliniko references it 3 \(0 for this run's own, 3 for records it did not create\)/,
    );
    expect(clinic.state.get('patients', edited.id)?.archived_at).toBeTruthy();
    expect(clinic.state.get('patients', booked.id)?.archived_at).toBeTruthy();
    expect(clinic.state.get('patients', c3.id)?.archived_at).toBeFalsy();
    expect(clinic.state.get('patients', c5.id)?.archived_at).toBeFalsy();
    expect(clinic.state.get('appointment_types', type)?.archived_at).toBeFalsy();
    expect(clinic.state.get('patients', walkIn.id)?.archived_at).toBeFalsy();
  }, 300_000);
});

describe('a record found again after a lost answer', () => {
  /** Answers 504 (a gateway timeout: the create may or may not have happened) to the first matching request, without applying it. */
  const failOnce = (match: (method: string, path: string, body: unknown) => boolean) => {
    const state = { failed: 0 };
    const hook = (method: string, path: string, body: unknown): false | 504 => {
      if (state.failed > 0 || !match(method, path, body)) return false;
      state.failed++;
      return 504;
    };
    return { state, hook };
  };
  const longAgo = '2023-01-10T22:00:00Z';

  it('counts as created only when this run created it, and only then does a rollback archive it', async () => {
    const stateDir = join(await tempDir('truth-state-'), 'state');
    const config = join(await tempDir('truth-config-'), 'migration.json');
    writeFileSync(config, JSON.stringify({ existingPatients: 'link' }));
    const fault = { hook: (_m: string, _p: string, _b: unknown): false | 504 => false };
    const clinic = await account('700008', undefined, (m, p, b) => fault.hook(m, p, b));
    // entered at the front desk long before the transfer, with the referral letter scanned in
    const byHand = clinic.state.insert('patients', {
      first_name: 'Client2',
      last_name: 'Lee',
      date_of_birth: '1982-03-12',
      email: 'c2@example.com',
      old_reference_id: null,
      archived_at: null,
    });
    clinic.state.update('patients', byHand.id, { created_at: longAgo });
    const scanned = clinic.state.insert('patient_attachments', {
      patient_id: byHand.id,
      description: attachmentDescription({
        sourceId: 'D2',
        kind: 'letter',
        date: '2024-05-02',
        title: 'Referral 2',
      }),
      filename: 'scan.pdf',
      content_type: 'application/pdf',
      size: 10,
      processing_completed: true,
      archived_at: null,
    });
    clinic.state.update('patient_attachments', scanned.id, { created_at: longAgo });
    // the create of the letter for that patient is answered 504 without being applied: the
    // writer looks for it and finds the scanned one, which was there before the run
    const lost = failOnce(
      (m, p, b) =>
        m === 'POST' &&
        p === '/v1/patient_attachments' &&
        String((b as { patient_id?: unknown }).patient_id) === byHand.id,
    );
    fault.hook = lost.hook;
    expect((await run(clinic, await exportOf(ids(3)), stateDir, 'refound-1', '--config', config)).code).toBe(
      0,
    );
    expect(lost.state.failed).toBe(1);
    const first = report('refound-1');
    expect(first.entities.letters).toMatchObject({ source: 3, created: 2, alreadyPresent: 1, failed: 0 });
    expect(clinic.state.count('patient_attachments', (a) => String(a.patient_id) === byHand.id)).toBe(1);

    const rollback = (runId: string) =>
      cli('rollback', runId, '--state-dir', stateDir, '--cliniko-url', clinic.baseUrl);
    const undone = await rollback(first.runId);
    expect(undone.code).toBe(0);
    // the clinic's own patient and scan stay; what the run created is archived
    expect(clinic.state.get('patient_attachments', scanned.id)?.archived_at).toBeFalsy();
    expect(clinic.state.get('patients', byHand.id)?.archived_at).toBeFalsy();
    expect(live(clinic, 'patient_attachments')).toBe(1);
    expect(live(clinic, 'patients')).toBe(1);

    // run again after the rollback; the first patient's create is answered 504 without being
    // applied: the archived copy of the rolled-back run is not taken for it, a new one is created
    const again = failOnce(
      (m, p, b) =>
        m === 'POST' &&
        p === '/v1/patients' &&
        (b as { old_reference_id?: unknown }).old_reference_id === 'C1',
    );
    fault.hook = again.hook;
    expect((await run(clinic, await exportOf(ids(3)), stateDir, 'refound-2', '--config', config)).code).toBe(
      0,
    );
    expect(again.state.failed).toBe(1);
    const second = report('refound-2');
    expect(second.entities.patients).toMatchObject({ created: 2, alreadyPresent: 1, failed: 0 });
    const c1 = clinic.state.all('patients').filter((p) => p.old_reference_id === 'C1');
    expect(c1).toHaveLength(2);
    const liveC1 = c1.find((p) => !p.archived_at);
    expect(liveC1).toBeDefined();
    expect(
      clinic.state
        .all('individual_appointments')
        .filter((a) => !a.archived_at && String(a.patient_id) === liveC1?.id),
    ).toHaveLength(1);
    const undoneAgain = await rollback(second.runId);
    expect(undoneAgain.code).toBe(0);
    expect(clinic.state.get('patients', liveC1?.id ?? '')?.archived_at).toBeTruthy();
    expect(clinic.state.get('patient_attachments', scanned.id)?.archived_at).toBeFalsy();
  }, 400_000);
});
