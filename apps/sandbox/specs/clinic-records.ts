import { archivable, linkTo, type ResourceSpec } from './spec.js';

/**
 * Records a clinic makes in Cliniko for its patients and appointments and a migration never writes
 * (Cliniko's API documentation on invoices, patient cases, patient forms, relationships and
 * communications): the sandbox answers their lists and reads, with the filters of each list
 * (contract/cliniko-openapi.yaml) and link objects as Cliniko shapes them; a test inserts records
 * into the state directly. Invoices are read-only in Cliniko's API too; the others' writes are not
 * served, since nothing here makes them.
 */
export const CLINIC_RECORD_RESOURCES: Record<string, ResourceSpec> = {
  invoices: {
    table: 'invoices',
    path: 'invoices',
    collection: 'invoices',
    rules: {},
    filters: {
      ...archivable,
      appointment_id: 'int64',
      attendee_id: 'int64',
      business_id: 'int64',
      closed_at: 'datetime',
      deleted_at: 'datetime',
      issue_date: 'date',
      number: 'integer',
      original_invoice_id: 'int64',
      patient_id: 'int64',
      practitioner_id: 'int64',
      status: 'integer',
    },
    // an invoice's appointment links to `/appointments/{id}`, the individual appointment's id
    relations: {
      patient: { field: 'patient_id', path: 'patients' },
      appointment: { field: 'appointment_id', path: 'appointments' },
      attendee: { field: 'attendee_id', path: 'attendees' },
      business: { field: 'business_id', path: 'businesses' },
      practitioner: { field: 'practitioner_id', path: 'practitioners' },
    },
    hideWhenSet: ['archived_at'],
  },
  patient_cases: {
    table: 'patient_cases',
    path: 'patient_cases',
    collection: 'patient_cases',
    archive: true,
    rules: {},
    filters: {
      ...archivable,
      closed_at: 'datetime',
      expiry_date: 'date',
      issue_date: 'date',
      name: 'string',
      patient_id: 'int64',
      referral_type: 'string',
    },
    relations: {
      patient: { field: 'patient_id', path: 'patients' },
      contact: { field: 'contact_id', path: 'contacts' },
    },
    hideWhenSet: ['archived_at'],
    extraLinks: (rec, base) => ({
      attendees: linkTo(base, `/patient_cases/${rec.id}/attendees`),
      bookings: linkTo(base, `/patient_cases/${rec.id}/bookings`),
      invoices: linkTo(base, `/patient_cases/${rec.id}/invoices`),
    }),
  },
  patient_forms: {
    table: 'patient_forms',
    path: 'patient_forms',
    collection: 'patient_forms',
    archive: true,
    rules: {},
    filters: {
      ...archivable,
      attendee_id: 'int64',
      completed_at: 'datetime',
      patient_id: 'int64',
    },
    // a form's booking links to `/bookings/{id}`: an individual appointment's id is its booking's
    relations: {
      patient: { field: 'patient_id', path: 'patients' },
      booking: { field: 'booking_id', path: 'bookings' },
      attendee: { field: 'attendee_id', path: 'attendees' },
      business: { field: 'business_id', path: 'businesses' },
    },
    hideWhenSet: ['archived_at'],
  },
  relationships: {
    table: 'relationships',
    path: 'relationships',
    collection: 'relationships',
    archive: true,
    rules: {},
    filters: { ...archivable, patient_id: 'int64' },
    relations: {
      patient: { field: 'patient_id', path: 'patients' },
      related_patient: { field: 'related_patient_id', path: 'patients' },
    },
    hideWhenSet: ['archived_at'],
  },
  communications: {
    table: 'communications',
    path: 'communications',
    collection: 'communications',
    archive: true,
    rules: {},
    filters: {
      ...archivable,
      category_code: 'integer',
      letter_id: 'int64',
      patient_id: 'int64',
      type_code: 'integer',
    },
    relations: { patient: { field: 'patient_id', path: 'patients' } },
    hideWhenSet: ['archived_at'],
  },
};
