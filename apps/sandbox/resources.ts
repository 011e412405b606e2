import type { FilterKind } from './filters.js';
import type { Rec, SandboxState, Table } from './state.js';
import { COLOR, EMAIL, type Rules } from './validation.js';

/**
 * Each resource the sandbox serves: its writable fields with Cliniko's limits, the fields it can
 * be filtered on (from the OpenAPI description), which `*_id` fields come back as link objects,
 * and any extra links a response carries.
 */
export interface ResourceSpec {
  readonly table: Table;
  readonly path: string;
  readonly collection: string;
  readonly create?: boolean;
  readonly update?: boolean;
  readonly archive?: boolean;
  readonly unarchive?: boolean;
  readonly rules: Rules;
  readonly filters: Readonly<Record<string, FilterKind>>;
  /** Response link objects built from stored `*_id` fields: `patient_id` → `patient`. */
  readonly relations: Readonly<Record<string, { readonly field: string; readonly path: string }>>;
  /** Stored fields that never appear in a response. */
  readonly hidden?: readonly string[];
  /** Hidden from lists unless a filter names them (`archived_at:*`). */
  readonly hideWhenSet: readonly string[];
  readonly extraLinks?: (rec: Rec, base: string) => Record<string, unknown>;
}

const s255 = { type: 'string', maxLength: 255 } as const;
const str = { type: 'string' } as const;
const bool = { type: 'boolean' } as const;
const id = { type: 'id' } as const;

const PHONE_TYPES = ['Mobile', 'Home', 'Work', 'Fax', 'Other'] as const;
const stamps: Record<string, FilterKind> = { created_at: 'datetime', updated_at: 'datetime', id: 'int64' };
const archivable: Record<string, FilterKind> = { ...stamps, archived_at: 'datetime' };
const linkTo = (base: string, path: string) => ({ links: { self: `${base}${path}` } });

export const RESOURCES: Record<string, ResourceSpec> = {
  patients: {
    table: 'patients',
    path: 'patients',
    collection: 'patients',
    create: true,
    update: true,
    archive: true,
    unarchive: true,
    rules: {
      first_name: { ...s255, required: true },
      last_name: { ...s255, required: true },
      title: s255,
      preferred_first_name: s255,
      date_of_birth: { type: 'date' },
      email: { ...s255, pattern: EMAIL },
      sex: str,
      gender_identity: str,
      occupation: s255,
      address_1: s255,
      address_2: s255,
      address_3: s255,
      city: s255,
      state: str,
      post_code: str,
      country: str,
      country_code: { type: 'string', maxLength: 2 },
      emergency_contact: s255,
      notes: str,
      appointment_notes: str,
      old_reference_id: s255,
      medicare: s255,
      medicare_reference_number: s255,
      referral_source: s255,
      referring_doctor_id: id,
      concession_type_id: id,
      reminder_type: { type: 'string', enum: ['None', 'SMS', 'Email', 'SMS & Email'] },
      time_zone: str,
      invoice_email: { type: 'string', pattern: EMAIL },
      invoice_default_to: str,
      invoice_extra_information: str,
      accepted_email_marketing: bool,
      accepted_privacy_policy: bool,
      receives_cancellation_emails: bool,
      receives_confirmation_emails: bool,
      unsubscribe_sms_marketing: bool,
      patient_phone_numbers: { type: 'array' },
      custom_fields: { type: 'object' },
      pronouns: { type: 'object' },
      dva_card_number: {
        type: 'string',
        pattern: /^[NVQSWT]([A-Z ][0-9]{1,6}|[A-Z]{2}[0-9]{1,5}|[A-Z]{3}[0-9]{1,4})[A-Z]?$/,
      },
    },
    filters: {
      ...archivable,
      accepted_privacy_policy: 'boolean',
      date_of_birth: 'date',
      email: 'string',
      first_name: 'string',
      last_name: 'string',
      old_reference_id: 'string',
      preferred_first_name: 'string',
    },
    relations: {
      referring_doctor: { field: 'referring_doctor_id', path: 'contacts' },
      concession_type: { field: 'concession_type_id', path: 'concession_types' },
    },
    hidden: ['unsubscribe_sms_marketing'],
    hideWhenSet: ['archived_at'],
    extraLinks: (rec, base) => ({
      medical_alerts: linkTo(base, `/patients/${rec.id}/medical_alerts?page=1`),
      appointments: linkTo(base, `/patients/${rec.id}/appointments`),
      attendees: linkTo(base, `/attendees?q%5B%5D=patient_id%3A%3D${rec.id}`),
      patient_attachments: linkTo(base, `/patients/${rec.id}/patient_attachments`),
      invoices: linkTo(base, `/patients/${rec.id}/invoices`),
      relationships: linkTo(base, `/relationships?q%5B%5D=patient_id%3A%3D${rec.id}`),
    }),
  },
  contacts: {
    table: 'contacts',
    path: 'contacts',
    collection: 'contacts',
    create: true,
    update: true,
    archive: true,
    rules: {
      first_name: s255,
      last_name: s255,
      preferred_name: str,
      title: str,
      company_name: s255,
      occupation: s255,
      email: { ...s255, pattern: EMAIL },
      address_1: s255,
      address_2: s255,
      address_3: s255,
      city: s255,
      state: s255,
      post_code: s255,
      country_code: { type: 'string', maxLength: 2 },
      doctor_type: { type: 'string', enum: ['general_practitioner', 'specialist'] },
      provider_number: s255,
      notes: str,
      type_code: { type: 'integer', enum: [0, 1, 2] },
      phone_numbers: { type: 'array' },
    },
    filters: {
      ...archivable,
      deleted_at: 'datetime',
      company_name: 'string',
      email: 'string',
      first_name: 'string',
      last_name: 'string',
      occupation: 'string',
      type_code: 'integer',
    },
    relations: {},
    hideWhenSet: ['archived_at'],
  },
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
  medical_alerts: {
    table: 'medical_alerts',
    path: 'medical_alerts',
    collection: 'medical_alerts',
    create: true,
    update: true,
    archive: true,
    rules: { name: { ...s255, minLength: 1, required: true }, patient_id: { ...id, required: true } },
    filters: { ...archivable, deleted_at: 'datetime', patient_id: 'int64' },
    relations: { patient: { field: 'patient_id', path: 'patients' } },
    hideWhenSet: ['archived_at'],
  },
  businesses: {
    table: 'businesses',
    path: 'businesses',
    collection: 'businesses',
    create: true,
    update: true,
    archive: true,
    unarchive: true,
    rules: {
      business_name: str,
      display_name: str,
      time_zone: str,
      time_zone_identifier: str,
      address_1: str,
      address_2: str,
      city: str,
      state: str,
      post_code: str,
      country_code: str,
      additional_information: { type: 'string', maxLength: 5000 },
    },
    filters: {
      ...archivable,
      deleted_at: 'datetime',
      show_in_online_bookings: 'boolean',
      appointment_type_ids: 'array',
    },
    relations: {},
    hideWhenSet: ['archived_at'],
    extraLinks: (rec, base) => ({ practitioners: linkTo(base, `/businesses/${rec.id}/practitioners`) }),
  },
  practitioners: {
    table: 'practitioners',
    path: 'practitioners',
    collection: 'practitioners',
    rules: {},
    filters: { ...stamps, active: 'boolean', show_in_online_bookings: 'boolean', user_id: 'int64' },
    relations: { user: { field: 'user_id', path: 'users' } },
    hideWhenSet: [],
    extraLinks: (rec, base) => ({
      appointment_types: linkTo(base, `/practitioners/${rec.id}/appointment_types`),
      display_name: [rec.title, rec.first_name, rec.last_name].filter(Boolean).join(' '),
      label: [rec.first_name, rec.last_name].filter(Boolean).join(' '),
    }),
  },
  users: {
    table: 'users',
    path: 'users',
    collection: 'users',
    rules: {},
    filters: stamps,
    relations: {},
    hideWhenSet: [],
  },
  referral_source_types: {
    table: 'referral_source_types',
    path: 'referral_source_types',
    collection: 'referral_source_types',
    rules: {},
    filters: stamps,
    relations: {},
    hideWhenSet: [],
  },
  referral_sources: {
    table: 'referral_sources',
    path: 'referral_sources',
    collection: 'referral_sources',
    rules: {
      referral_source_type_id: { ...id, required: true },
      referrer_id: id,
      subcategory: str,
      notes: str,
    },
    filters: { ...archivable, referral_source_type_id: 'int64', referrer_id: 'int64' },
    relations: {
      referral_source_type: { field: 'referral_source_type_id', path: 'referral_source_types' },
      patient: { field: 'patient_id', path: 'patients' },
    },
    hidden: ['referrer_path'],
    hideWhenSet: ['archived_at'],
    extraLinks: (rec, base) =>
      rec.referrer_id && rec.referrer_path
        ? { referrer: linkTo(base, `/${rec.referrer_path}/${rec.referrer_id}`) }
        : {},
  },
  patient_attachments: {
    table: 'patient_attachments',
    path: 'patient_attachments',
    collection: 'patient_attachments',
    update: true,
    archive: true,
    rules: { description: s255 },
    filters: {
      ...archivable,
      content_type: 'string',
      description: 'string',
      filename: 'string',
      patient_id: 'int64',
      processed_at: 'datetime',
      size: 'integer',
      user_id: 'int64',
    },
    relations: {
      patient: { field: 'patient_id', path: 'patients' },
      user: { field: 'user_id', path: 'users' },
    },
    hidden: ['storage_path'],
    hideWhenSet: ['archived_at'],
    extraLinks: (rec, base) => ({ content: linkTo(base, `/patient_attachments/${rec.id}/content`) }),
  },
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
      // An object, or the same as a JSON string (§2.11): checked section by section.
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

/** Turns a stored record into what Cliniko answers: relations as link objects, `links.self`. */
export function present(spec: ResourceSpec, rec: Rec, base: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const relationFields = new Set(Object.values(spec.relations).map((r) => r.field));
  const hidden = new Set(spec.hidden ?? []);
  for (const [k, v] of Object.entries(rec)) {
    if (relationFields.has(k) || hidden.has(k)) continue;
    out[k] = v;
  }
  for (const [name, rel] of Object.entries(spec.relations)) {
    const target = rec[rel.field];
    // The schema types relations as objects, never null: an unset one is left out.
    if (target) out[name] = linkTo(base, `/${rel.path}/${target}`);
  }
  Object.assign(out, spec.extraLinks?.(rec, base));
  out.links = { self: `${base}/${spec.path}/${rec.id}` };
  return out;
}

/** Rules that need other records: referenced ids must exist. */
export function checkReferences(
  state: SandboxState,
  values: Record<string, unknown>,
  refs: Record<string, Table>,
): Record<string, string> {
  const errors: Record<string, string> = {};
  for (const [field, table] of Object.entries(refs)) {
    const v = values[field];
    if (v == null) continue;
    const target = state.get(table, String(v));
    if (!target || target.archived_at) errors[field.replace(/_id$/, '')] = 'must exist';
  }
  return errors;
}

export function phoneErrors(list: unknown, field: string): Record<string, string> {
  if (list == null) return {};
  if (!Array.isArray(list)) return { [field]: 'is invalid' };
  for (const item of list) {
    if (typeof item !== 'object' || item === null) return { [field]: 'is invalid' };
    const { phone_type, number } = item as Record<string, unknown>;
    if (typeof number !== 'string' || number.trim() === '') return { [`${field}.number`]: "can't be blank" };
    if (number.length > 255) return { [`${field}.number`]: 'is too long (maximum is 255 characters)' };
    if (!PHONE_TYPES.includes(phone_type as (typeof PHONE_TYPES)[number]))
      return { [`${field}.phone_type`]: 'is not included in the list' };
  }
  return {};
}

export function normalisePhones(list: unknown): unknown {
  if (!Array.isArray(list)) return list;
  return list.map((item) => {
    const { phone_type, number } = item as { phone_type: string; number: string };
    return { phone_type, number, normalized_number: number.replace(/[^\d+]/g, '') };
  });
}
