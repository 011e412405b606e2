import { describe, expect, it } from '@jest/globals';
import { type ResourceName, ROLLBACK_ORDER } from '../../src/reconcile/resources.js';
import {
  type DecideOptions,
  decide,
  foreignDependants,
  type LocatedRecord,
  PARENT_LINKS,
  type RollbackItem,
  type RollbackRecord,
  recordKey,
} from '../../src/rollback/rollback.js';

/**
 * Rollback keeps what it keeps whole (issue 23): children are decided before the records they
 * refer to, and a child left in Cliniko keeps each of its parents the run created.
 */
const STARTED = '2026-03-01T10:00:00.000Z';
const WRITTEN = '2026-03-01T10:05:00.000Z';
const LATER = '2026-03-02T09:00:00Z';
const BASE = 'https://api.au1.cliniko.com/v1';
const to = (path: string, id: string) => ({ links: { self: `${BASE}/${path}/${id}` } });

const ENTITY = {
  patients: 'patients',
  contacts: 'contacts',
  appointmentTypes: 'appointmentTypes',
  appointments: 'appointments',
  attachments: 'letters',
  treatmentNotes: 'clinicalNotes',
  treatmentNoteTemplates: 'treatmentNoteTemplates',
} as const satisfies Record<ResourceName, string>;

/** A record the run created at WRITTEN, as Cliniko answers for it (`changed`: edited since). */
function made(
  resource: ResourceName,
  id: string,
  links: Partial<RollbackRecord> = {},
  changed = false,
): LocatedRecord {
  return {
    item: {
      resource,
      entity: ENTITY[resource],
      sourceIds: [`S${id}`],
      clinikoId: id,
      writtenAt: WRITTEN,
      updatedAt: changed ? LATER : WRITTEN.replace('.000', ''),
    },
    record: {
      id,
      created_at: '2026-03-01T10:05:00Z',
      updated_at: changed ? LATER : '2026-03-01T10:05:00Z',
      archived_at: null,
      ...links,
    },
  };
}

function options(over: Partial<DecideOptions> = {}) {
  const archived: string[] = [];
  const forgotten: string[] = [];
  const opts: DecideOptions = {
    foreign: new Map(),
    force: false,
    dryRun: false,
    runStartedAt: STARTED,
    archive: async (item) => {
      archived.push(`${item.resource}#${item.clinikoId}`);
    },
    forget: async (item) => {
      forgotten.push(...item.sourceIds);
    },
    ...over,
  };
  return { opts, archived, forgotten };
}

const byId = (items: readonly RollbackItem[], id: string) => {
  const found = items.find((i) => i.clinikoId === id);
  if (!found) throw new Error(`no item ${id}`);
  return found;
};

/** A clinic's run: two patients (one referred by a contact), their appointments of one type, a letter each. */
function clinic(changedAppointment: boolean) {
  return [
    // given parents first, to show the order is the rollback's own
    made('contacts', '50'),
    made('appointmentTypes', '40'),
    made('patients', '10', { referring_doctor: to('contacts', '50') }),
    made('patients', '20'),
    made(
      'appointments',
      '11',
      { patient: to('patients', '10'), appointment_type: to('appointment_types', '40') },
      changedAppointment,
    ),
    made('appointments', '21', {
      patient: to('patients', '20'),
      appointment_type: to('appointment_types', '40'),
    }),
    made('attachments', '12', { patient: to('patients', '10') }),
    made('attachments', '22', { patient: to('patients', '20') }),
  ];
}

describe('the order of a rollback', () => {
  it('puts every child resource before each resource it refers to', () => {
    for (const [child, links] of Object.entries(PARENT_LINKS))
      for (const { parent } of links)
        expect(ROLLBACK_ORDER.indexOf(child as ResourceName)).toBeLessThan(ROLLBACK_ORDER.indexOf(parent));
  });

  it('archives children before their parents, whatever order the records come in', async () => {
    const { opts, archived } = options();
    const items = await decide(clinic(false), opts);
    expect(items.every((i) => i.outcome === 'archived')).toBe(true);
    const at = (key: string) => archived.indexOf(key);
    expect(at('attachments#12')).toBeLessThan(at('appointments#11'));
    expect(at('appointments#11')).toBeLessThan(at('patients#10'));
    expect(at('appointments#21')).toBeLessThan(at('appointmentTypes#40'));
    expect(at('patients#10')).toBeLessThan(at('contacts#50'));
    expect(archived).toHaveLength(8);
  });
});

describe('a kept child keeps its parents', () => {
  it('keeps the patient and appointment type of an appointment changed in Cliniko, and what the patient refers to', async () => {
    const { opts, archived, forgotten } = options();
    const items = await decide(clinic(true), opts);
    expect(byId(items, '11')).toMatchObject({ outcome: 'changed' });
    expect(byId(items, '10')).toMatchObject({
      outcome: 'kept',
      reason: 'kept because appointment 11 that references it was changed in Cliniko after the run',
      keptFor: 'runRecord',
    });
    expect(byId(items, '40')).toMatchObject({
      outcome: 'kept',
      reason: 'kept because appointment 11 that references it was changed in Cliniko after the run',
    });
    // the chain goes on: the kept patient keeps its referring doctor
    expect(byId(items, '50')).toMatchObject({
      outcome: 'kept',
      reason: 'kept because patient 10 that references it is kept',
    });
    // the rest goes: the other patient, its appointment, both letters
    expect(archived.sort()).toEqual(['appointments#21', 'attachments#12', 'attachments#22', 'patients#20']);
    // a kept record's id stays known, so a later run does not write it again
    expect(forgotten).not.toContain('S10');
    expect(forgotten).not.toContain('S40');
    expect(forgotten).toContain('S20');
  });

  it("names the run's own kept child before a record it did not create", async () => {
    const foreign = new Map([
      ['appointmentTypes#40', "kept because appointment 900 (not this run's) references it"],
    ]);
    const { opts } = options({ foreign });
    const items = await decide(clinic(true), opts);
    expect(byId(items, '40').reason).toBe(
      'kept because appointment 11 that references it was changed in Cliniko after the run',
    );
    // with nothing of the run's own left, the other record's reason
    const forced = await decide(clinic(true), options({ foreign, force: true }).opts);
    expect(byId(forced, '40')).toMatchObject({ outcome: 'kept', reason: foreign.get('appointmentTypes#40') });
  });

  it('keeps the parents of a child that could not be archived', async () => {
    const { opts, archived } = options({
      archive: async (item) => {
        if (item.clinikoId === '22') throw new Error('Cliniko answered 500');
        archived.push(`${item.resource}#${item.clinikoId}`);
      },
    });
    const items = await decide(clinic(false), opts);
    expect(byId(items, '22')).toMatchObject({ outcome: 'failed', reason: 'Cliniko answered 500' });
    expect(byId(items, '20')).toMatchObject({
      outcome: 'kept',
      reason: 'kept because attachment 22 that references it could not be archived',
    });
    expect(byId(items, '21').outcome).toBe('archived');
    expect(byId(items, '40').outcome).toBe('archived');
    expect(archived).not.toContain('patients#20');
  });

  it('keeps what a child that could not be read references, as a list gave it', async () => {
    const records = clinic(false).map((r) =>
      r.item.clinikoId === '12' || r.item.clinikoId === '22'
        ? { item: r.item, reason: 'Cliniko answered 503' }
        : r,
    );
    // the list answered for letter 12 (not for 22): its patient stays
    const withList = records.map((r) =>
      r.item.clinikoId === '12' ? { ...r, listed: { id: '12', patient: to('patients', '10') } } : r,
    );
    const { opts } = options();
    const items = await decide(withList, opts);
    expect(byId(items, '12')).toMatchObject({ outcome: 'failed', reason: 'Cliniko answered 503' });
    expect(byId(items, '10')).toMatchObject({
      outcome: 'kept',
      reason: 'kept because attachment 12 that references it could not be read',
    });
    expect(byId(items, '20').outcome).toBe('archived');
  });

  it('lists in a dry run what it would keep, archiving nothing', async () => {
    const { opts, archived, forgotten } = options({ dryRun: true });
    const items = await decide(clinic(true), opts);
    expect(
      items
        .filter((i) => i.outcome === 'kept')
        .map((i) => i.clinikoId)
        .sort(),
    ).toEqual(['10', '40', '50']);
    expect(items.filter((i) => i.outcome === 'wouldArchive')).toHaveLength(4);
    expect(archived).toEqual([]);
    expect(forgotten).toEqual([]);
  });

  it('archives the parents too when --force archives the changed child', async () => {
    const { opts, archived } = options({ force: true });
    const items = await decide(clinic(true), opts);
    expect(items.every((i) => i.outcome === 'archived')).toBe(true);
    expect(archived).toHaveLength(8);
  });

  it('keeps the patient and template of a treatment note left, and the appointment it was written for', async () => {
    const { opts } = options();
    const items = await decide(
      [
        made('treatmentNoteTemplates', '70'),
        made('patients', '10'),
        made('appointments', '11', { patient: to('patients', '10') }),
        made(
          'treatmentNotes',
          '13',
          {
            patient: to('patients', '10'),
            booking: to('bookings', '11'),
            treatment_note_template: to('treatment_note_templates', '70'),
          },
          true,
        ),
      ],
      opts,
    );
    const reason = 'kept because treatment note 13 that references it was changed in Cliniko after the run';
    expect(byId(items, '11')).toMatchObject({ outcome: 'kept', reason });
    expect(byId(items, '10')).toMatchObject({ outcome: 'kept', reason });
    expect(byId(items, '70')).toMatchObject({ outcome: 'kept', reason });
  });

  it('keeps nothing for a link to a record the run did not create', async () => {
    const { opts } = options();
    const items = await decide(
      [
        made(
          'appointments',
          '11',
          { patient: to('patients', '999'), appointment_type: to('appointment_types', '40') },
          true,
        ),
        made('appointmentTypes', '41'),
      ],
      opts,
    );
    expect(byId(items, '41').outcome).toBe('archived');
    expect(items.map((i) => i.clinikoId)).toEqual(['11', '41']);
  });
});

describe('records the run did not create', () => {
  const listed = (id: string, links: Partial<RollbackRecord>, archived_at: string | null = null) => ({
    resource: 'appointments' as const,
    record: { id, created_at: LATER, updated_at: LATER, archived_at, ...links },
  });

  it('keep the patient and appointment type they refer to, even with --force', async () => {
    const records = clinic(false);
    const ours = new Set(records.map((r) => recordKey(r.item.resource, r.item.clinikoId)));
    const foreign = foreignDependants(ours, [
      // a clinician's appointment for patient 20, booked in Cliniko after the run
      listed('900', { patient: to('patients', '20'), appointment_type: to('appointment_types', '40') }),
      // the run's own appointment is no one else's
      listed('11', { patient: to('patients', '10') }),
      // an archived appointment holds nothing
      listed('901', { patient: to('patients', '10') }, LATER),
    ]);
    const reason = 'kept because appointment 900, which this run did not create, references it in Cliniko';
    expect([...foreign]).toEqual([
      ['patients#20', reason],
      ['appointmentTypes#40', reason],
    ]);

    const { opts, archived } = options({ foreign, force: true });
    const items = await decide(records, opts);
    expect(byId(items, '20')).toMatchObject({ outcome: 'kept', reason, keptFor: 'otherRecord' });
    expect(byId(items, '40')).toMatchObject({ outcome: 'kept', reason });
    // the run's own records of that patient go
    expect(byId(items, '21').outcome).toBe('archived');
    expect(byId(items, '22').outcome).toBe('archived');
    expect(archived.sort()).toEqual([
      'appointments#11',
      'appointments#21',
      'attachments#12',
      'attachments#22',
      'contacts#50',
      'patients#10',
    ]);
  });
});

describe('records a clinic adds after the run in resources no run creates', () => {
  it('keep the patient a medical alert is for, and the appointment and patient an invoice is for', () => {
    const ours = new Set(clinic(false).map((r) => recordKey(r.item.resource, r.item.clinikoId)));
    const at = (archived_at: string | null = null) => ({ created_at: LATER, updated_at: LATER, archived_at });
    const foreign = foreignDependants(ours, [
      { resource: 'medicalAlerts', record: { id: '700', patient: to('patients', '10'), ...at() } },
      // Cliniko links an invoice's appointment as /appointments/{id}
      {
        resource: 'invoices',
        record: { id: '800', patient: to('patients', '20'), appointment: to('appointments', '21'), ...at() },
      },
      // an archived alert holds nothing; one for a patient the run did not create keeps nothing
      { resource: 'medicalAlerts', record: { id: '701', patient: to('patients', '10'), ...at(LATER) } },
      { resource: 'medicalAlerts', record: { id: '702', patient: to('patients', '99'), ...at() } },
    ]);
    const byInvoice = 'kept because invoice 800, which this run did not create, references it in Cliniko';
    expect([...foreign]).toEqual([
      [
        'patients#10',
        'kept because medical alert 700, which this run did not create, references it in Cliniko',
      ],
      ['patients#20', byInvoice],
      ['appointments#21', byInvoice],
    ]);
  });

  it('keep the contact of a patient case, the appointment of a patient form, and both patients of a relationship', () => {
    const ours = new Set(clinic(false).map((r) => recordKey(r.item.resource, r.item.clinikoId)));
    const at = { created_at: LATER, updated_at: LATER, archived_at: null };
    const foreign = foreignDependants(ours, [
      { resource: 'patientCases', record: { id: '710', contact: to('contacts', '50'), ...at } },
      // an individual appointment's id is its booking's
      { resource: 'patientForms', record: { id: '720', booking: to('bookings', '11'), ...at } },
      {
        resource: 'relationships',
        record: { id: '730', patient: to('patients', '99'), related_patient: to('patients', '20'), ...at },
      },
      { resource: 'communications', record: { id: '740', patient: to('patients', '10'), ...at } },
    ]);
    const why = (what: string) =>
      `kept because ${what}, which this run did not create, references it in Cliniko`;
    expect([...foreign]).toEqual([
      ['contacts#50', why('patient case 710')],
      ['appointments#11', why('patient form 720')],
      ['patients#20', why('relationship 730')],
      ['patients#10', why('communication 740')],
    ]);
  });
});
