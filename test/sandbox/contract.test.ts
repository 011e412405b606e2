import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Sandbox } from '../../apps/sandbox/server.js';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import { ClinikoBadRequestError, ClinikoValidationError } from '../../src/cliniko/errors.js';
import { idFromLink } from '../../src/cliniko/schemas.js';
import { clientFor, OTHER_KEY, TEST_KEY, withSandbox } from '../support/sandbox.js';

const UA = 'contract tests (tests@example.com)';
const auth = (key: string) => `Basic ${Buffer.from(`${key}:`).toString('base64')}`;

let sandbox: Sandbox;
let client: ClinikoClient;

async function raw(path: string, init: RequestInit & { key?: string; ua?: string | null } = {}) {
  const headers: Record<string, string> = {
    Accept: 'application/json',
    Authorization: auth(init.key ?? TEST_KEY),
  };
  if (init.ua !== null) headers['User-Agent'] = init.ua ?? UA;
  if (init.body) headers['Content-Type'] = 'application/json';
  const res = await fetch(`${sandbox.baseUrl}${path}`, {
    ...init,
    headers: { ...headers, ...(init.headers as Record<string, string>) },
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // plain-text bodies stay text
  }
  return { status: res.status, headers: res.headers, body: body as Record<string, unknown> };
}

beforeAll(async () => {
  // Rate limiting has its own tests; here it would only slow the contract checks down.
  sandbox = await withSandbox({ rateLimit: 100_000 });
  client = clientFor(sandbox);
});
afterAll(() => sandbox.close());

describe('authentication and headers', () => {
  it('answers 401 without credentials, with an unknown key, or with a key of another shard', async () => {
    expect((await fetch(`${sandbox.baseUrl}/user`, { headers: { 'User-Agent': UA } })).status).toBe(401);
    expect((await raw('/user', { key: 'UnknownKeyBody12345-au2' })).status).toBe(401);
    expect((await raw('/user', { key: TEST_KEY.replace(/-au2$/, '-uk1') })).status).toBe(401);
  });

  it('accepts the key without its shard suffix on the right shard', async () => {
    expect((await raw('/user', { key: TEST_KEY.replace(/-au2$/, '') })).status).toBe(200);
  });

  it('refuses a request without a User-Agent naming a contact address', async () => {
    expect((await raw('/user', { ua: null })).status).toBe(403);
    expect((await raw('/user', { ua: 'curl/8.0' })).body).toMatchObject({ message: 'Requires a user agent' });
  });

  it('lets only administrators list users', async () => {
    expect((await raw('/users')).status).toBe(200);
    expect((await raw('/users', { key: 'T3RoZXJVc2VyS2V5MTIzNDU2Nzg5MA-au2' })).status).toBe(403);
  });
});

describe('reference data the API cannot create', () => {
  it('serves the current user, practitioners (active and inactive) and businesses', async () => {
    const me = await client.getCurrentUser();
    expect(me.first_name).toBe('Ada');
    const active = await client.listPractitioners();
    expect(active.map((p) => p.last_name).sort()).toEqual(['Admin', 'Smith']);
    const all = await client.listPractitioners({ includeInactive: true });
    expect(all.map((p) => p.last_name)).toContain('Practitioner');
    const mine = await client.listPractitioners({ userId: me.id });
    expect(mine).toHaveLength(1);
    expect(idFromLink(mine[0]?.user)).toBe(me.id);
    const businesses = await client.listBusinesses();
    expect(businesses.map((b) => b.time_zone_identifier)).toEqual(['Pacific/Auckland', 'Australia/Sydney']);
  });

  it('has no write routes for practitioners or users', async () => {
    expect((await raw('/practitioners', { method: 'POST', body: '{}' })).status).toBe(404);
    expect((await raw('/users', { method: 'POST', body: '{}' })).status).toBe(404);
  });
});

describe('patients', () => {
  it('creates with 64-bit string ids, link objects and normalised phone numbers', async () => {
    const p = await client.createPatient({
      first_name: 'Jane',
      last_name: 'Citizen',
      old_reference_id: 'SRC-1',
      date_of_birth: '1984-02-29',
      patient_phone_numbers: [{ phone_type: 'Mobile', number: '0412 345 678' }],
    });
    expect(p.id).toMatch(/^\d{18,19}$/);
    expect(BigInt(p.id)).toBeGreaterThan(BigInt(Number.MAX_SAFE_INTEGER));
    expect(p.medical_alerts?.links.self).toContain(`/patients/${p.id}/medical_alerts`);
    expect(p.patient_phone_numbers?.[0]).toMatchObject({
      phone_type: 'Mobile',
      number: '0412 345 678',
      normalized_number: '0412345678',
    });
    expect(p.links?.self).toBe(`${sandbox.baseUrl}/patients/${p.id}`);
  });

  it('answers 422 in Cliniko shape for blanks, enums, emails and lengths', async () => {
    const res = await raw('/patients', {
      method: 'POST',
      body: JSON.stringify({
        last_name: 'x'.repeat(256),
        email: 'not-an-email',
        reminder_type: 'Pigeon',
        date_of_birth: '1990-02-30',
      }),
    });
    expect(res.status).toBe(422);
    expect(res.body).toEqual({
      message: 'Validation Failed',
      errors: {
        first_name: "can't be blank",
        last_name: 'is too long (maximum is 255 characters)',
        email: 'is invalid',
        reminder_type: 'is not included in the list',
        date_of_birth: 'is not a valid date',
      },
    });
    const err = await client
      .createPatient({
        first_name: 'A',
        last_name: 'B',
        patient_phone_numbers: [{ phone_type: 'Pager' as 'Other', number: '1' }],
      })
      .catch((e) => e);
    expect(err).toBeInstanceOf(ClinikoValidationError);
  });

  it('updates with PATCH and PUT alike, archives and hides archived records unless asked', async () => {
    const p = await client.createPatient({
      first_name: 'Arch',
      last_name: 'Ived',
      old_reference_id: 'SRC-ARCH',
    });
    expect((await client.updatePatient(p.id, { occupation: 'Builder' })).occupation).toBe('Builder');
    expect(
      (await raw(`/patients/${p.id}`, { method: 'PUT', body: JSON.stringify({ occupation: 'Painter' }) }))
        .body.occupation,
    ).toBe('Painter');
    expect((await raw(`/patients/${p.id}/archive`, { method: 'POST' })).status).toBe(204);
    expect(await client.listPatients(['old_reference_id:=SRC-ARCH'])).toHaveLength(0);
    expect((await client.findPatientByReference('SRC-ARCH'))?.id).toBe(p.id);
    expect((await raw(`/patients/${p.id}/unarchive`, { method: 'POST' })).status).toBe(200);
    expect(await client.listPatients(['old_reference_id:=SRC-ARCH'])).toHaveLength(1);
  });

  it('sets a referral source, checking the type and its referrer', async () => {
    const p = await client.createPatient({ first_name: 'Ref', last_name: 'Erred' });
    const types = await client.listReferralSourceTypes();
    const contactType = types.find((t) => t.referrer_type === 'Contact');
    const doctor = await client.createContact({
      first_name: 'Greg',
      last_name: 'House',
      type_code: 1,
      doctor_type: 'general_practitioner',
    });
    expect(doctor.type).toBe('Doctor');
    const missing = await client
      .setReferralSource(p.id, { referral_source_type_id: String(contactType?.id) })
      .catch((e) => e);
    expect(missing).toBeInstanceOf(ClinikoValidationError);
    const source = await client.setReferralSource(p.id, {
      referral_source_type_id: String(contactType?.id),
      referrer_id: doctor.id,
      notes: 'GP',
    });
    expect(idFromLink(source.referrer)).toBe(doctor.id);
    expect((await client.getReferralSource(p.id)).notes).toBe('GP');
  });

  it('creates medical alerts for a patient and lists them by patient', async () => {
    const p = await client.createPatient({ first_name: 'Al', last_name: 'Ergic' });
    await client.createMedicalAlert({ patient_id: p.id, name: 'Penicillin allergy' });
    expect(await client.createMedicalAlert({ patient_id: p.id, name: '' }).catch((e) => e)).toBeInstanceOf(
      ClinikoValidationError,
    );
    const alerts = await client.listMedicalAlerts(p.id);
    expect(alerts.map((a) => a.name)).toEqual(['Penicillin allergy']);
  });
});

describe('pagination and filters', () => {
  beforeAll(async () => {
    for (let i = 0; i < 120; i++) {
      await client.createPatient({
        first_name: i % 2 ? 'Odd' : 'Even',
        last_name: `Page${String(i).padStart(3, '0')}`,
        old_reference_id: `PG-${i}`,
        date_of_birth: `19${50 + (i % 40)}-05-1${i % 9}`,
      });
    }
  });

  it('pages by 50 by default, with total_entries and links.next only while more exist', async () => {
    const first = await raw('/patients?q[]=last_name:~~Page%25');
    expect((first.body.patients as unknown[]).length).toBe(50);
    expect(first.body.total_entries).toBe(120);
    const links = first.body.links as Record<string, string>;
    expect(links.next).toContain('page=2');
    expect(links.previous).toBeUndefined();
    const last = await raw('/patients?q[]=last_name:~~Page%25&page=3');
    expect((last.body.patients as unknown[]).length).toBe(20);
    expect((last.body.links as Record<string, string>).next).toBeUndefined();
    expect((last.body.links as Record<string, string>).previous).toContain('page=2');
  });

  it('clamps per_page to 100', async () => {
    const res = await raw('/patients?per_page=500');
    expect((res.body.patients as unknown[]).length).toBe(100);
  });

  it('reads every page through the client', async () => {
    const all = await client.listPatients(['last_name:~~Page%']);
    expect(new Set(all.map((p) => p.old_reference_id)).size).toBe(120);
  });

  it('applies the documented operators', async () => {
    expect(await client.listPatients(['old_reference_id:=PG-7'])).toHaveLength(1);
    expect((await client.listPatients(['first_name:~dd', 'last_name:~page'])).length).toBe(60);
    expect((await client.listPatients(['date_of_birth:=****-05-13'])).length).toBeGreaterThan(0);
    const two = await client.listPatients(['old_reference_id:~~PG-1_']);
    expect(two).toHaveLength(0);
    const some = await client.listPatients(['last_name:~~Page%']);
    const ids = some.slice(0, 3).map((p) => p.id);
    expect(await client.listPatients([`id:=${ids.join(',')}`])).toHaveLength(3);
    expect((await client.listPatients([`id:>${ids[0]}`, 'last_name:~~Page%'])).length).toBe(119);
  });

  it('sorts with field:desc', async () => {
    const res = await raw('/patients?q[]=last_name:~~Page%25&sort=last_name:desc&per_page=3');
    expect((res.body.patients as { last_name: string }[]).map((p) => p.last_name)).toEqual([
      'Page119',
      'Page118',
      'Page117',
    ]);
  });

  it('answers 400 for a field that is not filterable or a value of the wrong kind', async () => {
    const err = await client.listPatients(['phone:=123']).catch((e) => e);
    expect(err).toBeInstanceOf(ClinikoBadRequestError);
    expect(err.message).toContain('phone is not filterable');
    expect((await raw('/patients?q[]=id:=abc')).status).toBe(400);
    expect((await raw('/patients?q[]=created_at:=2020-01-01T00:00:00Z')).status).toBe(400);
  });
});

describe('appointment types and appointments', () => {
  let typeId: string;
  let patientId: string;
  let practitionerId: string;
  let businessId: string;

  beforeAll(async () => {
    typeId = (
      await client.createAppointmentType({
        name: 'Initial Consultation',
        duration_in_minutes: 45,
        color: '#FF0000',
      })
    ).id;
    patientId = (await client.createPatient({ first_name: 'Appt', last_name: 'Holder' })).id;
    practitionerId = String((await client.listPractitioners())[0]?.id);
    businessId = String((await client.listBusinesses())[0]?.id);
  });

  it('validates appointment types', async () => {
    const err = await client
      .createAppointmentType({ name: 'Bad', duration_in_minutes: 2000, color: 'red' })
      .catch((e) => e);
    expect(err.fieldErrors).toEqual({
      duration_in_minutes: 'must be less than or equal to 1440',
      color: 'is invalid',
    });
  });

  it('computes ends_at from the type, and stores UTC', async () => {
    const a = await client.createIndividualAppointment({
      patient_id: patientId,
      practitioner_id: practitionerId,
      appointment_type_id: typeId,
      business_id: businessId,
      starts_at: '2024-03-10T09:00:00+13:00',
    });
    expect(a.starts_at).toBe('2024-03-09T20:00:00Z');
    expect(a.ends_at).toBe('2024-03-09T20:45:00Z');
    expect(idFromLink(a.patient)).toBe(patientId);
    expect(idFromLink(a.practitioner)).toBe(practitionerId);
  });

  it('refuses references that do not exist', async () => {
    const err = await client
      .createIndividualAppointment({
        patient_id: '1',
        practitioner_id: practitionerId,
        appointment_type_id: typeId,
        business_id: businessId,
        starts_at: '2024-01-01T00:00:00Z',
      })
      .catch((e) => e);
    expect(err.fieldErrors).toEqual({ patient: 'must exist' });
  });

  it('cancels with a reason code, hides cancelled ones unless asked, and rejects unknown codes', async () => {
    const a = await client.createIndividualAppointment({
      patient_id: patientId,
      practitioner_id: practitionerId,
      appointment_type_id: typeId,
      business_id: businessId,
      starts_at: '2024-04-01T00:00:00Z',
    });
    expect(
      await client.cancelIndividualAppointment(a.id, { cancellation_reason: 99 as 10 }).catch((e) => e),
    ).toBeInstanceOf(ClinikoValidationError);
    await client.cancelIndividualAppointment(a.id, { cancellation_reason: 40, cancellation_note: 'Away' });
    const visible = await client.listIndividualAppointments([`patient_id:=${patientId}`]);
    expect(visible.map((x) => x.id)).not.toContain(a.id);
    const withCancelled = await client.listIndividualAppointments([
      `patient_id:=${patientId}`,
      'cancelled_at:*',
    ]);
    const cancelled = withCancelled.find((x) => x.id === a.id);
    expect(cancelled).toMatchObject({ cancellation_reason: 40, cancellation_reason_description: 'Away' });
    expect(cancelled?.cancelled_at).toMatch(/Z$/);
  });

  it('marks arrival and did-not-arrive through the attendee', async () => {
    const a = await client.createIndividualAppointment({
      patient_id: patientId,
      practitioner_id: practitionerId,
      appointment_type_id: typeId,
      business_id: businessId,
      starts_at: '2024-05-01T00:00:00Z',
    });
    await client.setArrival(a.id, false);
    const dna = await client.listIndividualAppointments(['did_not_arrive:=true', `patient_id:=${patientId}`]);
    expect(dna.map((x) => x.id)).toContain(a.id);
    await client.setArrival(a.id, true);
    const after = (await client.listIndividualAppointments([`id:=${a.id}`]))[0];
    expect(after).toMatchObject({ patient_arrived: true, did_not_arrive: false });
  });

  it('re-finds an appointment by patient, practitioner and start time', async () => {
    const starts = '2024-06-01T02:30:00Z';
    const a = await client.createIndividualAppointment({
      patient_id: patientId,
      practitioner_id: practitionerId,
      appointment_type_id: typeId,
      business_id: businessId,
      starts_at: starts,
    });
    expect(
      (
        await client.findIndividualAppointment({
          patient_id: patientId,
          practitioner_id: practitionerId,
          starts_at: starts,
        })
      )?.id,
    ).toBe(a.id);
    expect(
      await client.findIndividualAppointment({
        patient_id: patientId,
        practitioner_id: practitionerId,
        starts_at: '2024-06-01T02:31:00Z',
      }),
    ).toBeUndefined();
  });

  it('reports conflicts without refusing overlaps', async () => {
    const body = {
      patient_id: patientId,
      practitioner_id: practitionerId,
      appointment_type_id: typeId,
      business_id: businessId,
      starts_at: '2024-07-01T00:00:00Z',
    };
    const a = await client.createIndividualAppointment(body);
    await client.createIndividualAppointment(body);
    expect((await raw(`/individual_appointments/${a.id}/conflicts`)).body).toEqual({
      conflicts: { exist: true },
    });
  });
});

describe('contacts', () => {
  it('maps type_code to type and re-finds by name and type', async () => {
    const payer = await client.createContact({ company_name: 'ACC', type_code: 2 });
    expect(payer.type).toBe('3rd Party Payer');
    expect((await client.findContact({ company_name: 'ACC', type_code: 2 }))?.id).toBe(payer.id);
    expect(await client.createContact({ notes: 'nobody' }).catch((e) => e)).toBeInstanceOf(
      ClinikoValidationError,
    );
  });
});

describe('patient attachments', () => {
  it('goes presign → storage POST → create → processing_completed, keeping the bytes', async () => {
    const p = await client.createPatient({ first_name: 'File', last_name: 'Holder' });
    const bytes = Buffer.from('%PDF-1.4 pretend letter ✓');
    const { record } = await client.uploadPatientAttachment({
      patientId: p.id,
      filename: 'letter one.pdf',
      contentType: 'application/pdf',
      size: bytes.length,
      open: () => Readable.from([bytes]),
      description: '2024-01-02 Letter to GP [L1]',
    });
    expect(record).toMatchObject({
      processing_completed: true,
      filename: 'letter one.pdf',
      content_type: 'application/pdf',
      size: bytes.length,
    });
    const content = await fetch(`${sandbox.baseUrl}/patient_attachments/${record.id}/content`, {
      headers: { Authorization: auth(TEST_KEY), 'User-Agent': UA },
    });
    expect(Buffer.from(await content.arrayBuffer()).equals(bytes)).toBe(true);
    expect((await client.findAttachment(p.id, '2024-01-02 Letter to GP [L1]'))?.id).toBe(record.id);
  });

  it('answers a fresh attachment as not yet processed', async () => {
    const p = await client.createPatient({ first_name: 'Slow', last_name: 'File' });
    const bytes = Buffer.from('x');
    const { record } = await client.uploadPatientAttachment({
      patientId: p.id,
      filename: 'a.txt',
      contentType: 'text/plain',
      size: 1,
      open: () => Readable.from([bytes]),
      description: 'quick',
      waitForProcessing: false,
    });
    expect(record).toMatchObject({
      processing_completed: false,
      filename: null,
      size: null,
      content_type: null,
    });
  });

  it('refuses an upload_url that names no uploaded object, in Cliniko words', async () => {
    const p = await client.createPatient({ first_name: 'No', last_name: 'Upload' });
    const res = await raw('/patient_attachments', {
      method: 'POST',
      body: JSON.stringify({ patient_id: p.id, upload_url: 'https://example.com/nothing' }),
    });
    expect(res).toMatchObject({
      status: 422,
      body: { message: 'Validation Failed', errors: { temp_attachment_url: 'is invalid' } },
    });
  });

  it('refuses a storage POST whose policy signature was tampered with', async () => {
    const p = await client.createPatient({ first_name: 'Bad', last_name: 'Sig' });
    const presigned = await client.presignAttachment(p.id);
    const form = new FormData();
    for (const [k, v] of Object.entries(presigned.fields))
      form.append(k, k === 'x-amz-signature' ? `${v}00` : v);
    form.append('file', new Blob(['x']), 'x.txt');
    expect((await fetch(presigned.url, { method: 'POST', body: form })).status).toBe(403);
  });
});

describe('treatment notes (read)', () => {
  it('lists the notes of a patient, authored by the key owner practitioner', async () => {
    const p = await client.createPatient({ first_name: 'Noted', last_name: 'Patient' });
    const created = await raw('/treatment_notes', {
      method: 'POST',
      body: JSON.stringify({ patient_id: p.id, title: 'Initial', draft: false }),
    });
    expect(created.status).toBe(201);
    const notes = await client.listTreatmentNotes(p.id);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toMatchObject({ title: 'Initial', author_name: 'Ada Admin' });
    const blank = await raw('/treatment_notes', {
      method: 'POST',
      body: JSON.stringify({ patient_id: p.id }),
    });
    expect(blank.body).toMatchObject({ errors: { title: "can't be blank" } });
  });
});

describe('treatment notes (write) and templates', () => {
  const section = (name: string, answer?: string) => ({
    name,
    questions: [{ name, type: 'paragraph' as const, ...(answer !== undefined ? { answer } : {}) }],
  });

  it('authors a note as the practitioner of the key, and refuses a key whose user is no practitioner', async () => {
    const p = await client.createPatient({ first_name: 'Author', last_name: 'Check' });
    const mine = await client.keyPractitioner();
    expect(mine.practitioner?.first_name).toBe('Ada');
    const note = await client.createTreatmentNote({ patient_id: p.id, title: 'Mine', draft: false });
    expect(idFromLink(note.practitioner)).toBe(mine.practitioner?.id);
    expect(note.author_name).toBe('Ada Admin');
    expect(note.finalized_at).toBeTruthy();
    const receptionist = clientFor(sandbox, { apiKey: OTHER_KEY });
    expect((await receptionist.keyPractitioner()).practitioner).toBeUndefined();
    await expect(
      receptionist.createTreatmentNote({ patient_id: p.id, title: 'Not mine' }),
    ).rejects.toBeInstanceOf(ClinikoValidationError);
  });

  it('takes the title from a template, and requires one without a template', async () => {
    const p = await client.createPatient({ first_name: 'Title', last_name: 'Check' });
    const template = await client.createTreatmentNoteTemplate({
      name: 'Rehab',
      content: { sections: [section('Exercises')] },
    });
    const fromTemplate = await client.createTreatmentNote({
      patient_id: p.id,
      treatment_note_template_id: template.id,
    });
    expect(fromTemplate.title).toBe('Rehab');
    const blank = await raw('/treatment_notes', {
      method: 'POST',
      body: JSON.stringify({ patient_id: p.id }),
    });
    expect(blank.status).toBe(422);
    expect(blank.body).toMatchObject({ errors: { title: "can't be blank" } });
    const noName = await raw('/treatment_note_templates', {
      method: 'POST',
      body: JSON.stringify({ content: { sections: [] } }),
    });
    expect(noName.body).toMatchObject({ errors: { name: "can't be blank" } });
    expect((await client.findTreatmentNoteTemplate('Rehab'))?.id).toBe(template.id);
  });

  it('validates the content schema and keeps only the paragraph markup Cliniko allows', async () => {
    const p = await client.createPatient({ first_name: 'Content', last_name: 'Check' });
    const bad = await raw('/treatment_notes', {
      method: 'POST',
      body: JSON.stringify({
        patient_id: p.id,
        title: 'Bad',
        content: {
          sections: [
            {
              name: 'S',
              questions: [
                { name: 'Q', type: 'essay', answer: 'x' },
                { name: '', type: 'paragraph' },
                {
                  name: 'R',
                  type: 'radiobuttons',
                  answers: [
                    { value: 'a', selected: true },
                    { value: 'b', selected: true },
                  ],
                },
                { name: 'C', type: 'checkboxes', answers: [] },
                { name: 'D', type: 'date', answer: '3/4/2024' },
              ],
            },
          ],
        },
      }),
    });
    expect(bad.status).toBe(422);
    expect(Object.keys((bad.body as { errors: Record<string, string> }).errors).sort()).toEqual([
      'content.sections[0].questions[0].type',
      'content.sections[0].questions[1].name',
      'content.sections[0].questions[2].answers',
      'content.sections[0].questions[3].answers',
      'content.sections[0].questions[4].answer',
    ]);
    const note = await client.createTreatmentNote({
      patient_id: p.id,
      title: 'Markup',
      content: {
        sections: [section('Plan', 'a &lt;b&gt; c<br>line\ntwo <script>x</script><span>y</span> 1 < 2')],
      },
    });
    const answer = (note.content as { sections: { questions: { answer: string }[] }[] }).sections[0]
      ?.questions[0]?.answer;
    expect(answer).toBe('a &lt;b&gt; c<br>linetwo xy 1  2');
  });

  it('re-finds a note by patient, booking and title, archived ones included', async () => {
    const p = await client.createPatient({ first_name: 'Refind', last_name: 'Note' });
    const note = await client.createTreatmentNote({ patient_id: p.id, title: 'Treatment [Note N9]' });
    await client.archiveTreatmentNote(note.id);
    expect((await client.listTreatmentNotes(p.id)).map((n) => n.id)).not.toContain(note.id);
    expect((await client.findTreatmentNote({ patient_id: p.id, title: 'Treatment [Note N9]' }))?.id).toBe(
      note.id,
    );
    expect(
      await client.findTreatmentNote({ patient_id: p.id, title: 'Treatment [Note N8]' }),
    ).toBeUndefined();
  });
});
