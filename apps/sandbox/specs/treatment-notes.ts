import { archivable, bool, id, type ResourceSpec, s255 } from './spec.js';

/**
 * Treatment notes and their templates (Cliniko's API documentation on treatment notes and treatment
 * note templates).
 */
export const TREATMENT_NOTE_RESOURCES: Record<string, ResourceSpec> = {
  treatment_notes: {
    table: 'treatment_notes',
    path: 'treatment_notes',
    collection: 'treatment_notes',
    create: true,
    update: true,
    archive: true,
    unarchive: true,
    rules: {
      patient_id: { ...id, required: true },
      // Required unless a template gives it (checked with the template, see the server).
      title: s255,
      draft: bool,
      // An object, or the same as a JSON string (Cliniko's API documentation on treatment notes):
      // checked section by section.
      content: { type: 'any' },
      booking_id: id,
      attendee_id: id,
      treatment_note_template_id: id,
    },
    filters: {
      ...archivable,
      attendee_id: 'int64',
      booking_id: 'int64',
      deleted_at: 'datetime',
      draft: 'boolean',
      patient_id: 'int64',
      practitioner_id: 'int64',
      treatment_note_template_id: 'int64',
    },
    relations: {
      patient: { field: 'patient_id', path: 'patients' },
      practitioner: { field: 'practitioner_id', path: 'practitioners' },
      booking: { field: 'booking_id', path: 'bookings' },
      attendee: { field: 'attendee_id', path: 'attendees' },
      treatment_note_template: { field: 'treatment_note_template_id', path: 'treatment_note_templates' },
    },
    hideWhenSet: ['archived_at'],
  },
  treatment_note_templates: {
    table: 'treatment_note_templates',
    path: 'treatment_note_templates',
    collection: 'treatment_note_templates',
    create: true,
    update: true,
    archive: true,
    rules: {
      name: { ...s255, required: true },
      content: { type: 'any', required: true },
      print_settings: { type: 'object' },
    },
    filters: { ...archivable, deleted_at: 'datetime' },
    relations: {},
    hideWhenSet: ['archived_at'],
  },
};
