import { archivable, type ResourceSpec } from './spec.js';

/**
 * Invoices (Cliniko's API documentation on invoices): read-only in Cliniko's API, as here; a
 * clinic makes them in Cliniko itself, so a test or a seed inserts them into the state directly.
 * The filters are the list's (contract/cliniko-openapi.yaml, `GET /invoices`); `appointment` links
 * to `/appointments/{id}`, as Cliniko shapes it.
 */
export const INVOICE_RESOURCES: Record<string, ResourceSpec> = {
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
    relations: {
      patient: { field: 'patient_id', path: 'patients' },
      appointment: { field: 'appointment_id', path: 'appointments' },
      attendee: { field: 'attendee_id', path: 'attendees' },
      business: { field: 'business_id', path: 'businesses' },
      practitioner: { field: 'practitioner_id', path: 'practitioners' },
    },
    hideWhenSet: ['archived_at'],
  },
};
