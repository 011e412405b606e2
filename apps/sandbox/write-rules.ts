import { checkReferences, normalisePhones, phoneErrors } from './resources.js';
import type { Rec, SandboxState, Table } from './state.js';
import { checkContent } from './treatment-notes.js';
import { utcSeconds } from './validation.js';

/** The fields a new record of `table` starts with before the request's values (Cliniko's defaults). */
export function defaults(table: Table): Record<string, unknown> {
  switch (table) {
    case 'patients':
      return {
        archived_at: null,
        deleted_at: null,
        merged_at: null,
        date_of_birth: null,
        email: null,
        old_reference_id: null,
        patient_phone_numbers: [],
        accepted_sms_marketing: null,
        referring_doctor_id: null,
      };
    case 'contacts':
      return { archived_at: null, deleted_at: null, type_code: 0, phone_numbers: [] };
    case 'appointment_types':
      return { archived_at: null, max_attendees: 1, category: null, description: null };
    case 'individual_appointments':
      return {
        archived_at: null,
        deleted_at: null,
        cancelled_at: null,
        cancellation_reason: null,
        cancellation_reason_description: null,
        cancellation_note: null,
        did_not_arrive: false,
        patient_arrived: false,
        notes: null,
      };
    case 'medical_alerts':
      return { archived_at: null, deleted_at: null };
    case 'treatment_notes':
      return {
        archived_at: null,
        deleted_at: null,
        draft: true,
        finalized_at: null,
        pinned_at: null,
        content: null,
      };
    case 'treatment_note_templates':
      return { archived_at: null, deleted_at: null, print_settings: null };
    default:
      return { archived_at: null };
  }
}

/**
 * Rules across fields and records (Cliniko's API documentation on resources: references must exist,
 * phones, a contact's name, an appointment's end from its type, a note's author and title); returns
 * derived fields to store. Adds to `errors` in place and may normalise `values`.
 */
export function beforeWrite(
  state: SandboxState,
  table: Table,
  values: Record<string, unknown>,
  errors: Record<string, string>,
  existing: Rec | undefined,
  userId: string,
): Record<string, unknown> {
  const extra: Record<string, unknown> = {};
  switch (table) {
    case 'patients':
      Object.assign(
        errors,
        phoneErrors(values.patient_phone_numbers, 'patient_phone_numbers'),
        checkReferences(state, values, { referring_doctor_id: 'contacts' }),
      );
      if (values.patient_phone_numbers)
        values.patient_phone_numbers = normalisePhones(values.patient_phone_numbers);
      if (Object.hasOwn(values, 'unsubscribe_sms_marketing'))
        extra.accepted_sms_marketing = values.unsubscribe_sms_marketing === true ? false : null;
      break;
    case 'contacts': {
      Object.assign(errors, phoneErrors(values.phone_numbers, 'phone_numbers'));
      if (values.phone_numbers) values.phone_numbers = normalisePhones(values.phone_numbers);
      const merged = { ...existing, ...values };
      if (!merged.first_name && !merged.last_name && !merged.company_name)
        errors.last_name = "can't be blank";
      const typeCode = (merged.type_code ?? 0) as number;
      extra.type = ['Standard', 'Doctor', '3rd Party Payer'][typeCode] ?? 'Standard';
      break;
    }
    case 'individual_appointments': {
      Object.assign(
        errors,
        checkReferences(state, values, {
          patient_id: 'patients',
          practitioner_id: 'practitioners',
          appointment_type_id: 'appointment_types',
          business_id: 'businesses',
        }),
      );
      const merged = { ...existing, ...values };
      const type = merged.appointment_type_id
        ? state.get('appointment_types', String(merged.appointment_type_id))
        : undefined;
      // Cliniko: "If not provided on create or set to null on update", ends_at follows the type's duration.
      const derive = existing
        ? Object.hasOwn(values, 'ends_at') && values.ends_at == null
        : values.ends_at == null;
      if (derive && merged.starts_at && type) {
        extra.ends_at = utcSeconds(
          new Date(Date.parse(String(merged.starts_at)) + Number(type.duration_in_minutes) * 60_000),
        );
      }
      const ends = (extra.ends_at ?? merged.ends_at) as string | undefined;
      if (merged.starts_at && ends && Date.parse(ends) < Date.parse(String(merged.starts_at)))
        errors.ends_at = 'must be after starts_at';
      const patient = merged.patient_id ? state.get('patients', String(merged.patient_id)) : undefined;
      if (patient) extra.patient_name = `${patient.first_name} ${patient.last_name}`;
      break;
    }
    case 'medical_alerts':
      Object.assign(errors, checkReferences(state, values, { patient_id: 'patients' }));
      break;
    case 'treatment_notes': {
      Object.assign(
        errors,
        checkReferences(state, values, {
          patient_id: 'patients',
          booking_id: 'individual_appointments',
          treatment_note_template_id: 'treatment_note_templates',
        }),
      );
      // Cliniko's API documentation on treatment notes: the author is the practitioner of the key's
      // user, active or not; a user who is no practitioner cannot write notes (422 here; 403 or 422
      // is unconfirmed).
      const practitioner = state.all('practitioners').find((p) => p.user_id === userId);
      if (!practitioner) errors.practitioner = 'must be a practitioner to create treatment notes';
      else if (!existing) {
        extra.practitioner_id = practitioner.id;
        extra.author_name = [practitioner.first_name, practitioner.last_name].filter(Boolean).join(' ');
      }
      // `title` is required unless a template gives it (Cliniko's API documentation on treatment
      // notes): the template's name.
      const merged = { ...existing, ...values };
      const template = merged.treatment_note_template_id
        ? state.get('treatment_note_templates', String(merged.treatment_note_template_id))
        : undefined;
      if (merged.title == null || String(merged.title).trim() === '') {
        if (template && !existing) extra.title = template.name;
        else errors.title = "can't be blank";
      }
      if (Object.hasOwn(values, 'content')) {
        const checked = checkContent(values.content, 'note');
        Object.assign(errors, checked.errors);
        values.content = checked.content;
      }
      if (values.draft === false && !existing?.finalized_at) extra.finalized_at = state.now();
      break;
    }
    case 'treatment_note_templates': {
      if (Object.hasOwn(values, 'content') || !existing) {
        const checked = checkContent(values.content, 'template');
        Object.assign(errors, checked.errors);
        values.content = checked.content;
      }
      break;
    }
  }
  return extra;
}

/**
 * What a create brings along: an individual appointment gets its one attendee (Cliniko's API
 * documentation on attendees).
 */
export function afterCreate(state: SandboxState, table: Table, rec: Rec): void {
  if (table === 'individual_appointments') {
    state.insert('attendees', {
      booking_id: rec.id,
      appointment_id: rec.id,
      patient_id: rec.patient_id,
      arrived: null,
      notes: null,
      archived_at: null,
      cancelled_at: null,
      cancellation_reason: null,
      cancellation_reason_description: null,
      cancellation_note: null,
      patient_case_id: null,
    });
  }
}

/** Mirrors an attendee's `arrived` onto its appointment (`patient_arrived`, `did_not_arrive`). */
export function syncArrival(state: SandboxState, attendee: Rec): void {
  const appt = attendee.booking_id
    ? state.get('individual_appointments', String(attendee.booking_id))
    : undefined;
  if (!appt) return;
  // Unconfirmed how Cliniko maps it; we read `arrived: false` as did-not-arrive.
  state.update('individual_appointments', appt.id, {
    patient_arrived: attendee.arrived === true,
    did_not_arrive: attendee.arrived === false,
  });
}
