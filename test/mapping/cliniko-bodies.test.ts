import { describe, expect, it } from '@jest/globals';
import type * as M from '../../src/core/canonical.js';
import {
  mapAppointment,
  mapAppointmentType,
  mapContact,
  mapPatient,
} from '../../src/mapping/cliniko-bodies.js';
import { cancellationCode } from '../../src/translate/builders.js';
import { requestErrors } from '../support/openapi.js';

const patient: M.Patient = {
  sourceId: 'C42',
  firstName: 'Mere',
  lastName: 'Tane',
  middleName: 'Aroha',
  dateOfBirth: '1980-02-29',
  sex: 'Female',
  email: 'mere@example.co.nz',
  phones: [
    { type: 'Mobile', number: '021 555 0101' },
    { type: 'Home', number: '09 555 0102' },
  ],
  address: {
    line1: '1 Queen St',
    suburb: 'Ponsonby',
    city: 'Auckland',
    postCode: '1011',
    country: 'New Zealand',
  },
  referrerSourceId: 'R1',
  nhi: 'ABC1234',
  reminderType: 'SMS & Email',
  emailMarketing: true,
  smsMarketing: false,
  alerts: ['Penicillin allergy', 'x'.repeat(256)],
  inactive: false,
};

describe('patients', () => {
  it('maps to a Cliniko body that fits the OpenAPI request schema', () => {
    const { body, issues } = mapPatient(
      patient,
      (entity, id) => (entity === 'contacts' ? `900${id.slice(1)}` : undefined),
      () => true,
    );
    expect(body?.body).toMatchObject({
      first_name: 'Mere',
      last_name: 'Tane',
      old_reference_id: 'C42',
      date_of_birth: '1980-02-29',
      reminder_type: 'SMS & Email',
      accepted_email_marketing: true,
      unsubscribe_sms_marketing: true,
      referring_doctor_id: '9001',
      address_3: 'Ponsonby',
      country_code: 'NZ',
      patient_phone_numbers: [
        { phone_type: 'Mobile', number: '021 555 0101' },
        { phone_type: 'Home', number: '09 555 0102' },
      ],
    });
    expect(body?.body.notes).toContain('Middle name: Aroha');
    expect(body?.body.notes).toContain('NHI: ABC1234');
    expect(body?.alerts).toEqual(['Penicillin allergy']);
    expect(body?.referrerSourceId).toBe('R1');
    expect(issues).toEqual([
      expect.objectContaining({ field: 'Alerts', code: 'TOO_LONG', severity: 'warning' }),
    ]);
    expect(requestErrors('/patients', 'post', body?.body)).toEqual([]);
  });

  it('only links a referring doctor when the referrer is a doctor', () => {
    const { body } = mapPatient(
      patient,
      () => '1',
      () => false,
    );
    expect(body?.body.referring_doctor_id).toBeUndefined();
  });
});

describe('contacts', () => {
  it('keeps the type code, doctor type and phones of each kind', () => {
    const doctor = mapContact({
      sourceId: 'R1',
      kind: 'referrer',
      typeCode: 1,
      doctorType: 'general_practitioner',
      lastName: 'House',
      firstName: 'Greg',
      phones: [{ type: 'Fax', number: '09 444 3000' }],
      address: {},
    });
    expect(doctor.body).toEqual({
      type_code: 1,
      doctor_type: 'general_practitioner',
      first_name: 'Greg',
      last_name: 'House',
      phone_numbers: [{ phone_type: 'Fax', number: '09 444 3000' }],
    });
    expect(requestErrors('/contacts', 'post', doctor.body)).toEqual([]);
    const payer = mapContact({
      sourceId: 'D1',
      kind: 'debtor',
      typeCode: 2,
      companyName: 'ACC',
      phones: [],
      address: { country: 'Australia' },
    });
    expect(payer.body).toEqual({ type_code: 2, company_name: 'ACC', country_code: 'AU' });
  });
});

describe('appointment types and appointments', () => {
  it('defaults duration and colour that Cliniko requires', () => {
    const { body } = mapAppointmentType({ sourceId: 'T1', name: 'Initial', inactive: false });
    expect(body).toMatchObject({ name: 'Initial', duration_in_minutes: 30, color: '#4A90E2' });
    expect(requestErrors('/appointment_types', 'post', body)).toEqual([]);
  });

  it('keeps cancelled and did-not-arrive appointments with what Cliniko needs to show them', () => {
    const base: M.Appointment = {
      sourceId: 'A1',
      patientSourceId: 'C1',
      practitionerSourceId: 'P1',
      localStart: '2024-01-01 09:00',
      timeZone: 'Pacific/Auckland',
      startsAt: '2023-12-31T20:00:00Z',
      status: 'cancelled',
      cancellationReason: 40,
      cancellationNote: 'Away on holiday',
    };
    const refs = { patientId: '11', practitionerId: '22', businessId: '33', appointmentTypeId: '44' };
    const cancelled = mapAppointment(base, refs).body;
    expect(cancelled?.body).toEqual({
      patient_id: '11',
      practitioner_id: '22',
      business_id: '33',
      appointment_type_id: '44',
      starts_at: '2023-12-31T20:00:00Z',
    });
    expect(cancelled?.cancel).toEqual({ cancellation_reason: 40, cancellation_note: 'Away on holiday' });
    expect(requestErrors('/individual_appointments', 'post', cancelled?.body)).toEqual([]);
    expect(mapAppointment({ ...base, status: 'did-not-arrive' }, refs).body?.arrived).toBe(false);
    expect(mapAppointment({ ...base, status: 'completed' }, refs).body?.arrived).toBe(true);
    expect(mapAppointment({ ...base, status: 'booked' }, refs).body?.arrived).toBeUndefined();
  });

  it('chooses Cliniko cancellation codes from the source reason', () => {
    expect(
      [
        'Feeling better',
        'Condition worse',
        'Sick',
        'COVID isolation',
        'Away on holiday',
        'Work',
        'No reason given',
        undefined,
      ].map(cancellationCode),
    ).toEqual([10, 20, 30, 31, 40, 60, 50, 50]);
  });
});
