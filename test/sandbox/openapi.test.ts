import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Sandbox } from '../../apps/sandbox/server.js';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import { idFromLink } from '../../src/cliniko/schemas.js';
import { nodeTransport } from '../../src/cliniko/transport.js';
import { RollbackRecord } from '../../src/rollback/rollback.js';
import { requestErrors, responseErrors } from '../support/openapi.js';
import { clientFor, TEST_KEY, withSandbox } from '../support/sandbox.js';

/**
 * The sandbox's answers must fit Cliniko's own OpenAPI description, and the client's request
 * bodies must fit its request schemas: otherwise passing against the sandbox proves nothing.
 */
interface Exchange {
  method: string;
  path: string;
  status: number;
  request: unknown;
  response: unknown;
}

let sandbox: Sandbox;
let client: ClinikoClient;
const exchanges: Exchange[] = [];

/** The OpenAPI path template a concrete path belongs to: ids become `{id}` / `{patient_id}`. */
function template(method: string, path: string): string {
  const p = path.replace(/^\/v1/, '');
  const nested: [RegExp, string][] = [
    [/^\/patients\/\d+\/attachment_presigned_post$/, '/patients/{patient_id}/attachment_presigned_post'],
    [/^\/patients\/\d+\/referral_source$/, '/patients/{patient_id}/referral_source'],
    [/^\/individual_appointments\/\d+\/cancel$/, '/individual_appointments/{id}/cancel'],
  ];
  for (const [re, t] of nested) if (re.test(p)) return t;
  void method;
  return p.replace(/\/\d+(?=\/|$)/g, '/{id}');
}

beforeAll(async () => {
  sandbox = await withSandbox({ rateLimit: 100_000 });
  client = clientFor(sandbox, {
    transport: async (req) => {
      const res = await nodeTransport(req);
      if (req.url.pathname.startsWith('/v1')) {
        const parse = (b: Buffer | undefined) => (b?.length ? JSON.parse(b.toString('utf8')) : undefined);
        exchanges.push({
          method: req.method,
          path: req.url.pathname,
          status: res.status,
          request: Buffer.isBuffer(req.body) ? parse(req.body) : undefined,
          response: res.status === 204 ? undefined : parse(res.body),
        });
      }
      return res;
    },
  });

  // Everything a migration does, once.
  await client.getCurrentUser();
  const [practitioner] = await client.listPractitioners({ includeInactive: true });
  const [business] = await client.listBusinesses();
  const type = await client.createAppointmentType({
    name: 'Follow up',
    duration_in_minutes: 30,
    color: '#00AA00',
    category: 'Physio',
    max_attendees: 1,
  });
  await client.listAppointmentTypes();
  const doctor = await client.createContact({
    first_name: 'Gina',
    last_name: 'Practice',
    title: 'Dr',
    type_code: 1,
    doctor_type: 'general_practitioner',
    company_name: 'Main St Medical',
    phone_numbers: [{ phone_type: 'Work', number: '09 555 1234' }],
    country_code: 'NZ',
  });
  await client.listContacts(['type_code:=1']);
  const patient = await client.createPatient({
    first_name: 'Mere',
    last_name: 'Tane',
    date_of_birth: '1979-11-30',
    email: 'mere@example.co.nz',
    old_reference_id: 'C-100',
    sex: 'Female',
    reminder_type: 'SMS & Email',
    referring_doctor_id: doctor.id,
    patient_phone_numbers: [{ phone_type: 'Mobile', number: '021 555 0101' }],
    accepted_email_marketing: false,
    unsubscribe_sms_marketing: true,
    time_zone: 'Pacific/Auckland',
  });
  await client.updatePatient(patient.id, { occupation: 'Teacher' });
  await client.listPatients(['old_reference_id:=C-100']);
  await client.getPatient(patient.id);
  await client.createMedicalAlert({ patient_id: patient.id, name: 'Latex allergy' });
  await client.listMedicalAlerts(patient.id);
  const types = await client.listReferralSourceTypes();
  await client.setReferralSource(patient.id, {
    referral_source_type_id: String(types.find((t) => t.referrer_type === 'Contact')?.id),
    referrer_id: doctor.id,
  });
  const appt = await client.createIndividualAppointment({
    patient_id: patient.id,
    practitioner_id: String(practitioner?.id),
    business_id: String(business?.id),
    appointment_type_id: type.id,
    starts_at: '2024-02-01T21:00:00Z',
    notes: 'Migrated',
  });
  await client.listIndividualAppointments([`patient_id:=${patient.id}`]);
  // what rollback lists of a clinic's own records since a run started (an invoice is made in
  // Cliniko itself: its API cannot create one)
  sandbox.state.insert('invoices', {
    patient_id: patient.id,
    appointment_id: appt.id,
    number: 1,
    issue_date: '2024-02-01',
    status: 10,
    total_amount: '85.0',
    notes: null,
    archived_at: null,
    closed_at: null,
  });
  const since = ['updated_at:>=2024-01-01T00:00:00Z'];
  const invoices = await client.listAll('/invoices', 'invoices', RollbackRecord, since);
  const alerts = await client.listAll('/medical_alerts', 'medical_alerts', RollbackRecord, since);
  expect([invoices.length, alerts.length]).toEqual([1, 1]);
  expect(idFromLink(invoices[0]?.appointment)).toBe(appt.id);
  const made = { archived_at: null, patient_id: patient.id };
  sandbox.state.insert('patient_cases', { ...made, name: 'Knee', contact_id: doctor.id, closed_at: null });
  sandbox.state.insert('patient_forms', { ...made, name: 'Intake', booking_id: appt.id, completed_at: null });
  sandbox.state.insert('relationships', { ...made, related_patient_id: patient.id, relation: 10 });
  sandbox.state.insert('communications', { ...made, content: 'Called', type_code: 1, category_code: 12 });
  for (const [path, collection] of [
    ['/patient_cases', 'patient_cases'],
    ['/patient_forms', 'patient_forms'],
    ['/relationships', 'relationships'],
    ['/communications', 'communications'],
  ] as const)
    expect(await client.listAll(path, collection, RollbackRecord, since)).toHaveLength(1);
  await client.setArrival(appt.id, true);
  await client.cancelIndividualAppointment(appt.id, { cancellation_reason: 10, cancellation_note: 'better' });
  const bytes = Buffer.from('attachment');
  await client.uploadPatientAttachment({
    patientId: patient.id,
    filename: 'a.txt',
    contentType: 'text/plain',
    size: bytes.length,
    open: () => Readable.from([bytes]),
    description: 'upload',
  });
  await client.listPatientAttachments([`patient_id:=${patient.id}`]);
  await client.listTreatmentNotes(patient.id);
  await client.keyPractitioner();
  const template = await client.createTreatmentNoteTemplate({
    name: 'SOAP',
    content: {
      sections: [{ name: 'Subjective', questions: [{ name: 'Subjective', type: 'paragraph' }] }],
    },
  });
  await client.listTreatmentNoteTemplates();
  const note = await client.createTreatmentNote({
    patient_id: patient.id,
    booking_id: appt.id,
    treatment_note_template_id: template.id,
    title: 'Treatment 2024-02-01',
    draft: false,
    content: {
      sections: [
        {
          name: 'Subjective',
          questions: [{ name: 'Subjective', type: 'paragraph', answer: 'Knee &lt;better&gt;<br>ROM full' }],
        },
      ],
    },
  });
  await client.findTreatmentNote({ patient_id: patient.id, booking_id: appt.id, title: 'x' });
  await client.archiveTreatmentNote(note.id);
  void TEST_KEY;
});
afterAll(() => sandbox.close());

describe('against openapi.yaml', () => {
  it('exercised every operation a migration uses', () => {
    const ops = new Set(exchanges.map((e) => `${e.method} ${template(e.method, e.path)}`));
    for (const op of [
      'GET /user',
      'GET /practitioners',
      'GET /practitioners/inactive',
      'GET /businesses',
      'POST /appointment_types',
      'POST /contacts',
      'POST /patients',
      'PATCH /patients/{id}',
      'POST /medical_alerts',
      'GET /medical_alerts',
      'GET /invoices',
      'GET /patient_cases',
      'GET /patient_forms',
      'GET /relationships',
      'GET /communications',
      'PATCH /patients/{patient_id}/referral_source',
      'POST /individual_appointments',
      'PATCH /attendees/{id}',
      'PATCH /individual_appointments/{id}/cancel',
      'GET /patients/{patient_id}/attachment_presigned_post',
      'POST /patient_attachments',
      'GET /patient_attachments/{id}',
      'GET /treatment_notes',
      'POST /treatment_notes',
      'POST /treatment_notes/{id}/archive',
      'GET /treatment_note_templates',
      'POST /treatment_note_templates',
    ]) {
      expect(ops).toContain(op);
    }
  });

  it('answers match the response schemas', () => {
    const problems: string[] = [];
    for (const e of exchanges) {
      if (e.response === undefined) continue;
      const errors = responseErrors(template(e.method, e.path), e.method, e.status, e.response);
      if (errors.length) problems.push(`${e.method} ${e.path} ${e.status}: ${errors.join('; ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('the client sends bodies that match the request schemas', () => {
    const problems: string[] = [];
    const bodies = exchanges.filter((e) => e.request !== undefined);
    expect(bodies.length).toBeGreaterThan(8);
    for (const e of bodies) {
      const errors = requestErrors(template(e.method, e.path), e.method, e.request);
      if (errors.length) problems.push(`${e.method} ${e.path}: ${errors.join('; ')}`);
    }
    expect(problems).toEqual([]);
  });

  it('a schema violation would be caught', () => {
    expect(
      responseErrors('/patients', 'post', 201, { id: '1', first_name: 'a', last_name: 'b', email: 42 }),
    ).not.toEqual([]);
    expect(requestErrors('/patients', 'post', { reminder_type: 'Pigeon' })).not.toEqual([]);
  });
});
