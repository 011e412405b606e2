import { COLOR } from '../validation.js';
import { archivable, bool, id, linkTo, type ResourceSpec, s255, str } from './spec.js';

/**
 * Appointment types, individual appointments and their attendees (Cliniko's API documentation on
 * individual appointments, attendees, bookings and appointment types).
 */
export const APPOINTMENT_RESOURCES: Record<string, ResourceSpec> = {
  appointment_types: {
    table: 'appointment_types',
    path: 'appointment_types',
    collection: 'appointment_types',
    create: true,
    update: true,
    archive: true,
    rules: {
      name: { ...s255, required: true },
      // Unconfirmed whether Cliniko requires these; the sandbox takes the strict reading.
      duration_in_minutes: { type: 'integer', required: true, min: 0, max: 1440 },
      color: { type: 'string', required: true, pattern: COLOR },
      category: str,
      description: str,
      max_attendees: { type: 'integer', min: 0, max: 100 },
      show_in_online_bookings: bool,
      telehealth_enabled: bool,
      deposit_price: { type: 'decimal' },
      treatment_note_template_id: id,
      business_ids: { type: 'id-array' },
      practitioner_ids: { type: 'id-array' },
    },
    filters: { ...archivable, category: 'string', show_in_online_bookings: 'boolean' },
    relations: {},
    hideWhenSet: ['archived_at'],
    extraLinks: (rec, base) => ({
      practitioners: linkTo(base, `/appointment_types/${rec.id}/practitioners`),
      appointment_type_billable_items: linkTo(
        base,
        `/appointment_type_billable_items?q%5B%5D=appointment_type_id%3A%3D${rec.id}`,
      ),
    }),
  },
  individual_appointments: {
    table: 'individual_appointments',
    path: 'individual_appointments',
    collection: 'individual_appointments',
    create: true,
    update: true,
    archive: true,
    rules: {
      patient_id: { ...id, required: true },
      practitioner_id: { ...id, required: true },
      appointment_type_id: { ...id, required: true },
      business_id: { ...id, required: true },
      starts_at: { type: 'datetime', required: true },
      ends_at: { type: 'datetime' },
      notes: str,
      patient_case_id: id,
    },
    filters: {
      ...archivable,
      appointment_type_id: 'int64',
      business_id: 'int64',
      cancelled_at: 'datetime',
      deleted_at: 'datetime',
      did_not_arrive: 'boolean',
      ends_at: 'datetime',
      patient_id: 'int64',
      practitioner_id: 'int64',
      repeated_from_id: 'int64',
      starts_at: 'datetime',
    },
    relations: {
      patient: { field: 'patient_id', path: 'patients' },
      practitioner: { field: 'practitioner_id', path: 'practitioners' },
      appointment_type: { field: 'appointment_type_id', path: 'appointment_types' },
      business: { field: 'business_id', path: 'businesses' },
      patient_case: { field: 'patient_case_id', path: 'patient_cases' },
    },
    hidden: ['repeated_from_id'],
    hideWhenSet: ['archived_at', 'cancelled_at'],
    extraLinks: (rec, base) => ({
      attendees: linkTo(base, `/individual_appointments/${rec.id}/attendees`),
      conflicts: linkTo(base, `/individual_appointments/${rec.id}/conflicts`),
    }),
  },
  attendees: {
    table: 'attendees',
    path: 'attendees',
    collection: 'attendees',
    update: true,
    archive: true,
    rules: { arrived: bool, notes: str, patient_case_id: id },
    filters: {
      ...archivable,
      appointment_id: 'int64',
      booking_id: 'int64',
      cancelled_at: 'datetime',
      deleted_at: 'datetime',
      patient_case_id: 'int64',
      patient_id: 'int64',
    },
    relations: {
      patient: { field: 'patient_id', path: 'patients' },
      booking: { field: 'booking_id', path: 'bookings' },
      patient_case: { field: 'patient_case_id', path: 'patient_cases' },
    },
    hidden: ['appointment_id'],
    hideWhenSet: ['archived_at', 'cancelled_at'],
  },
};
