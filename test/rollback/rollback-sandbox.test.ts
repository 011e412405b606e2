import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Sandbox, startSandbox } from '../../apps/sandbox/server.js';
import { ClinikoClient } from '../../src/cliniko/client.js';
import type { CountedEntity } from '../../src/core/entities.js';
import { type IdMapEntry, medicalAlertStep } from '../../src/ports/id-map.js';
import type { LedgerEntry } from '../../src/ports/write-ledger.js';
import { rollback } from '../../src/rollback/rollback.js';
import { runInfo } from '../support/run-info.js';

/**
 * `rollback` against the sandbox (issue 23): what references the run's records is read from
 * Cliniko: the kept child's links, records the run did not create (listed by `updated_at` since
 * the run started), and the links of a child whose own read failed.
 */
const KEY = 'RollbackParentsKey000000000001-au1';
let sandbox: Sandbox;
let failRead = '';

beforeAll(async () => {
  sandbox = await startSandbox({
    rateLimit: 100_000,
    seed: {
      account: { id: '900002', name: 'Clinic 900002' },
      users: [{ first_name: 'Ops', last_name: 'Admin', is_practitioner: true, api_key: KEY }],
      businesses: [{ business_name: 'Auckland Central', time_zone_identifier: 'Pacific/Auckland' }],
    },
    alwaysFail: (method, path) =>
      method === 'GET' && failRead !== '' && path.endsWith(failRead) ? 503 : false,
  });
});
afterAll(() => sandbox.close());

describe('rollback reads what depends on the run from Cliniko', () => {
  it('keeps the parents of a changed appointment, of a clinician appointment, and of an unreadable letter', async () => {
    const t0 = Date.now();
    const insert = (table: Parameters<Sandbox['state']['insert']>[0], values: Record<string, unknown>) =>
      sandbox.state.insert(table, { archived_at: null, ...values });
    const type = insert('appointment_types', { name: 'Initial consult', duration_in_minutes: 30 });
    const patient = (ref: string) =>
      insert('patients', { first_name: 'A', last_name: ref, old_reference_id: ref });
    const [p1, p2, p3, p4] = [patient('C1'), patient('C2'), patient('C3'), patient('C4')];
    const appointment = (patientId: string) =>
      insert('individual_appointments', {
        patient_id: patientId,
        appointment_type_id: type.id,
        starts_at: '2024-05-01T21:30:00Z',
        ends_at: '2024-05-01T22:00:00Z',
        cancelled_at: null,
      });
    const moved = appointment(p1.id);
    const plain = appointment(p4.id);
    const letter = insert('patient_attachments', {
      patient_id: p3.id,
      description: '2024-05-02 Referral [Letter D3]',
      processing_completed: true,
    });
    // after the run: a clinician's appointment for C2 (of another type), C1's appointment moved
    const otherType = insert('appointment_types', { name: 'Follow-up', duration_in_minutes: 15 });
    const clinicians = insert('individual_appointments', {
      patient_id: p2.id,
      appointment_type_id: otherType.id,
      starts_at: '2024-06-01T21:30:00Z',
      cancelled_at: '2024-05-30T01:00:00Z',
    });
    const writtenEarlier = new Date(t0 - 30_000).toISOString();
    sandbox.state.update('individual_appointments', moved.id, { notes: 'Moved by phone' });
    failRead = `/patient_attachments/${letter.id}`;

    const written = new Date(t0 + 5_000).toISOString();
    const writes: LedgerEntry[] = [
      ['appointmentTypes', 'T1', type.id],
      ['patients', 'C1', p1.id],
      ['patients', 'C2', p2.id],
      ['patients', 'C3', p3.id],
      ['patients', 'C4', p4.id],
      ['appointments', 'A1', moved.id, writtenEarlier],
      ['appointments', 'A4', plain.id],
      ['letters', 'D3', letter.id],
    ].map(([entity, sourceId, clinikoId, at]) => ({
      entity: entity as CountedEntity,
      sourceId: String(sourceId),
      clinikoId: String(clinikoId),
      outcome: 'created' as const,
      at: at ?? written,
    }));
    const forgotten: string[] = [];
    const report = await rollback({
      runId: 'r1',
      store: {
        getRun: async () => runInfo({ startedAt: new Date(t0 - 60_000).toISOString() }),
        listWrites: async function* () {
          yield* writes;
        },
        getIdMap: async () => new Map(),
        deleteIdMap: async (_scope, _entity, sourceId) => {
          forgotten.push(sourceId);
        },
      },
      client: new ClinikoClient({
        apiKey: KEY,
        baseUrl: sandbox.baseUrl,
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      }),
      dryRun: false,
      force: false,
    });
    const item = (id: string) => report.items.find((i) => i.clinikoId === id);
    expect(item(moved.id)).toMatchObject({ outcome: 'changed' });
    const byMoved = `kept because appointment ${moved.id} that references it was changed in Cliniko after the run`;
    expect(item(p1.id)).toMatchObject({ outcome: 'kept', reason: byMoved, keptFor: 'runRecord' });
    expect(item(type.id)).toMatchObject({ outcome: 'kept', reason: byMoved, keptFor: 'runRecord' });
    // a cancelled appointment is still the patient's history
    expect(item(p2.id)).toMatchObject({
      outcome: 'kept',
      reason: `kept because appointment ${clinicians.id}, which this run did not create, references it in Cliniko`,
      keptFor: 'otherRecord',
    });
    expect(item(letter.id)?.outcome).toBe('failed');
    expect(item(p3.id)).toMatchObject({
      outcome: 'kept',
      reason: `kept because attachment ${letter.id} that references it could not be read`,
    });
    expect(item(plain.id)?.outcome).toBe('archived');
    expect(item(p4.id)?.outcome).toBe('archived');
    expect(report.counts).toMatchObject({ archived: 2, changed: 1, kept: 4, failed: 1 });
    expect(forgotten.sort()).toEqual(['A4', 'C4']);
    const active = (table: 'patients' | 'appointment_types', id: string) =>
      !sandbox.state.get(table, id)?.archived_at;
    expect([p1, p2, p3].every((p) => active('patients', p.id))).toBe(true);
    expect(active('patients', p4.id)).toBe(false);
    expect(active('appointment_types', type.id)).toBe(true);
  });

  it('keeps a patient with a medical alert and the appointment and patient of an invoice added after the run', async () => {
    const t0 = Date.now();
    const insert = (table: Parameters<Sandbox['state']['insert']>[0], values: Record<string, unknown>) =>
      sandbox.state.insert(table, { archived_at: null, ...values });
    const patient = (ref: string) =>
      insert('patients', { first_name: 'B', last_name: ref, old_reference_id: ref });
    const [alerted, invoiced, unalerted, plain] = [
      patient('M1'),
      patient('M2'),
      patient('M3'),
      patient('M4'),
    ];
    const appointment = insert('individual_appointments', {
      patient_id: invoiced.id,
      starts_at: '2024-05-03T21:30:00Z',
      ends_at: '2024-05-03T22:00:00Z',
      cancelled_at: null,
    });
    // after the run: a clinician records an alert for M1, invoices M2's appointment (invoices are
    // read-only in Cliniko's API: made in Cliniko itself), and records then archives one for M3
    const alert = insert('medical_alerts', { patient_id: alerted.id, name: 'Penicillin allergy' });
    const invoice = insert('invoices', {
      patient_id: invoiced.id,
      appointment_id: appointment.id,
      number: 1,
      status: 10,
      total_amount: '85.0',
    });
    insert('medical_alerts', {
      patient_id: unalerted.id,
      name: 'Latex',
      archived_at: new Date(t0).toISOString(),
    });

    const written = new Date(t0 + 5_000).toISOString();
    const writes: LedgerEntry[] = [
      ['patients', 'M1', alerted.id],
      ['patients', 'M2', invoiced.id],
      ['patients', 'M3', unalerted.id],
      ['patients', 'M4', plain.id],
      ['appointments', 'B2', appointment.id],
    ].map(([entity, sourceId, clinikoId]) => ({
      entity: entity as CountedEntity,
      sourceId: String(sourceId),
      clinikoId: String(clinikoId),
      outcome: 'created' as const,
      at: written,
    }));
    const report = await rollback({
      runId: 'r2',
      store: {
        getRun: async () => runInfo({ startedAt: new Date(t0 - 60_000).toISOString() }),
        listWrites: async function* () {
          yield* writes;
        },
        getIdMap: async () => new Map(),
        deleteIdMap: async () => {},
      },
      client: new ClinikoClient({
        apiKey: KEY,
        baseUrl: sandbox.baseUrl,
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
      }),
      dryRun: false,
      force: true,
    });
    const item = (id: string) => report.items.find((i) => i.clinikoId === id);
    expect(item(alerted.id)).toMatchObject({
      outcome: 'kept',
      keptFor: 'otherRecord',
      reason: `kept because medical alert ${alert.id}, which this run did not create, references it in Cliniko`,
    });
    const byInvoice = `kept because invoice ${invoice.id}, which this run did not create, references it in Cliniko`;
    expect(item(appointment.id)).toMatchObject({
      outcome: 'kept',
      keptFor: 'otherRecord',
      reason: byInvoice,
    });
    // the kept appointment keeps its patient too, named first as the run's own doing
    expect(item(invoiced.id)).toMatchObject({
      outcome: 'kept',
      keptFor: 'runRecord',
      reason: `kept because appointment ${appointment.id} that references it is kept`,
    });
    // an archived alert keeps nothing
    expect(item(unalerted.id)?.outcome).toBe('archived');
    expect(item(plain.id)?.outcome).toBe('archived');
    expect(sandbox.state.get('patients', alerted.id)?.archived_at).toBeFalsy();
    expect(sandbox.state.get('patients', plain.id)?.archived_at).toBeTruthy();
  });

  it("leaves the run's own medical alerts out of what keeps a patient, unless changed after the run", async () => {
    const t0 = Date.now();
    const insert = (table: Parameters<Sandbox['state']['insert']>[0], values: Record<string, unknown>) =>
      sandbox.state.insert(table, { archived_at: null, ...values });
    const patient = (ref: string) =>
      insert('patients', { first_name: 'D', last_name: ref, old_reference_id: ref });
    const [own, both, edited, rewritten] = [patient('N1'), patient('N2'), patient('N3'), patient('N4')];
    // the run's writer made an alert with each patient (its Alerts column) and noted its id
    const alertOf = (p: { id: string }) =>
      insert('medical_alerts', { patient_id: p.id, name: 'Anticoagulants' });
    const [ownAlert, bothAlert, editedAlert, rewrittenAlert] = [own, both, edited, rewritten].map(alertOf);
    // after the run: a clinician adds an alert of the same name for N2, and edits N3's
    const clinicians = alertOf(both);
    const written = new Date(t0 + 5_000).toISOString();
    const editedAt = new Date(Math.floor(t0 / 1000) * 1000 + 10_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
    const editedRecord = sandbox.state.update('medical_alerts', editedAlert?.id ?? '', { name: 'Warfarin' });
    editedRecord.updated_at = editedAt;

    const patients = [own, both, edited, rewritten];
    const writes: LedgerEntry[] = patients.map((p, i) => ({
      entity: 'patients',
      sourceId: `N${i + 1}`,
      clinikoId: p.id,
      outcome: 'created' as const,
      at: written,
    }));
    const entries = new Map<string, IdMapEntry>(
      [ownAlert, bothAlert, editedAlert, rewrittenAlert].map((alert, i) => [
        `N${i + 1}`,
        {
          // N4's entry names another record now (written again since): its alert is not this run's
          clinikoId: i === 3 ? 'another' : (patients[i]?.id ?? ''),
          hash: '',
          runId: 'r3',
          at: written,
          steps: ['alerts', medicalAlertStep(alert?.id ?? '')],
        },
      ]),
    );
    const run = (force: boolean) =>
      rollback({
        runId: 'r3',
        store: {
          getRun: async () => runInfo({ startedAt: new Date(t0 - 60_000).toISOString() }),
          listWrites: async function* () {
            yield* writes;
          },
          getIdMap: async (_scope, entity, sourceIds) =>
            new Map(
              entity === 'patients'
                ? sourceIds.flatMap((id) => {
                    const e = entries.get(id);
                    return e ? [[id, e] as const] : [];
                  })
                : [],
            ),
          deleteIdMap: async () => {},
        },
        client: new ClinikoClient({
          apiKey: KEY,
          baseUrl: sandbox.baseUrl,
          retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5 },
        }),
        dryRun: true,
        force,
      });
    const report = await run(false);
    const item = (id: string) => report.items.find((i) => i.clinikoId === id);
    // the run's alert is part of the patient it migrated: the patient goes
    expect(item(own.id)).toMatchObject({ outcome: 'wouldArchive' });
    expect(item(both.id)).toMatchObject({
      outcome: 'kept',
      keptFor: 'otherRecord',
      reason: `kept because medical alert ${clinicians.id}, which this run did not create, references it in Cliniko`,
    });
    expect(item(edited.id)).toMatchObject({
      outcome: 'kept',
      keptFor: 'otherRecord',
      reason: `kept because medical alert ${editedAlert?.id}, which this run created with it, was changed in Cliniko at ${editedAt}, after the run wrote it at ${written} (--force archives it)`,
    });
    expect(item(rewritten.id)).toMatchObject({ outcome: 'kept', keptFor: 'otherRecord' });
    // --force archives the patient whose run alert a clinician edited, never one a clinician's keeps
    const forced = await run(true);
    const forcedItem = (id: string) => forced.items.find((i) => i.clinikoId === id);
    expect(forcedItem(edited.id)?.outcome).toBe('wouldArchive');
    expect(forcedItem(both.id)?.outcome).toBe('kept');
  });
});
