import { z } from 'zod';
import type { components } from './generated/openapi.js';

/**
 * Response schemas for the part of Cliniko a migration touches. They check what we rely on and
 * let everything else through, so a field Cliniko adds tomorrow does not break a run. Each one is
 * tied at compile time to Cliniko's own OpenAPI description (`contract/cliniko-openapi.yaml`) by
 * the `Conforms` checks at the bottom: if our schema drifts from theirs, typecheck fails.
 */

/** 64-bit ids, always strings: a number would lose precision past 2^53. */
export const ClinikoId = z.string().regex(/^\d+$/, 'Cliniko ids are decimal strings');
export type ClinikoId = z.infer<typeof ClinikoId>;

export const LinkObject = z.looseObject({ links: z.looseObject({ self: z.string() }) });
export type LinkObject = z.infer<typeof LinkObject>;

const nullableString = z.string().nullable().optional();
const nullableBoolean = z.boolean().nullable().optional();
const timestamp = z.string().nullable().optional();
const link = LinkObject.nullable().optional();

const base = {
  id: ClinikoId,
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  links: z.looseObject({ self: z.string() }).optional(),
};

export const User = z.looseObject({
  ...base,
  first_name: z.string(),
  last_name: z.string(),
  email: z.string().optional(),
  role: nullableString,
  active: nullableBoolean,
  time_zone: z.string().optional(),
  time_zone_identifier: nullableString,
});
export type User = z.infer<typeof User>;

/** `GET /settings/public`: the account the key belongs to (any role may read it). */
export const PublicSettings = z.looseObject({
  account: z
    .looseObject({
      id: ClinikoId,
      name: nullableString,
      subdomain: nullableString,
      country_code: nullableString,
    })
    .nullable()
    .optional(),
});
export type PublicSettings = z.infer<typeof PublicSettings>;

export const Practitioner = z.looseObject({
  ...base,
  first_name: nullableString,
  last_name: nullableString,
  title: nullableString,
  display_name: nullableString,
  active: nullableBoolean,
  user: link,
});
export type Practitioner = z.infer<typeof Practitioner>;

export const Business = z.looseObject({
  ...base,
  business_name: nullableString,
  display_name: nullableString,
  time_zone: nullableString,
  time_zone_identifier: nullableString,
  archived_at: timestamp,
});
export type Business = z.infer<typeof Business>;

export const AppointmentType = z.looseObject({
  ...base,
  name: z.string(),
  duration_in_minutes: z.number().int(),
  color: z.string().optional(),
  category: nullableString,
  description: nullableString,
  archived_at: timestamp,
});
export type AppointmentType = z.infer<typeof AppointmentType>;

export const PhoneNumber = z.looseObject({
  phone_type: z.string().nullable().optional(),
  number: z.string().nullable().optional(),
});

export const Patient = z.looseObject({
  ...base,
  first_name: z.string(),
  last_name: z.string(),
  old_reference_id: nullableString,
  date_of_birth: nullableString,
  email: nullableString,
  patient_phone_numbers: z.array(PhoneNumber).nullable().optional(),
  archived_at: timestamp,
  medical_alerts: link,
  referring_doctor: link,
});
export type Patient = z.infer<typeof Patient>;

export const Contact = z.looseObject({
  ...base,
  first_name: nullableString,
  last_name: nullableString,
  company_name: nullableString,
  email: nullableString,
  type: nullableString,
  type_code: z
    .union([z.literal(0), z.literal(1), z.literal(2)])
    .nullable()
    .optional(),
  phone_numbers: z.array(PhoneNumber).nullable().optional(),
  archived_at: timestamp,
});
export type Contact = z.infer<typeof Contact>;

export const IndividualAppointment = z.looseObject({
  ...base,
  starts_at: z.string(),
  ends_at: z.string().nullable().optional(),
  cancelled_at: timestamp,
  cancellation_reason: z.number().int().nullable().optional(),
  archived_at: timestamp,
  did_not_arrive: nullableBoolean,
  patient_arrived: nullableBoolean,
  notes: nullableString,
  patient: link,
  practitioner: link,
  appointment_type: link,
  business: link,
  attendees: link,
});
export type IndividualAppointment = z.infer<typeof IndividualAppointment>;

export const Attendee = z.looseObject({
  ...base,
  arrived: nullableBoolean,
  patient: link,
  booking: link,
});
export type Attendee = z.infer<typeof Attendee>;

export const MedicalAlert = z.looseObject({
  ...base,
  name: z.string(),
  patient: link,
  archived_at: timestamp,
});
export type MedicalAlert = z.infer<typeof MedicalAlert>;

export const ReferralSourceType = z.looseObject({
  ...base,
  name: nullableString,
  referrer_type: nullableString,
  subcategories: z.array(z.string()).nullable().optional(),
});
export type ReferralSourceType = z.infer<typeof ReferralSourceType>;

export const ReferralSource = z.looseObject({
  ...base,
  notes: nullableString,
  subcategory: nullableString,
  referral_source_type: link,
  referrer: link,
});
export type ReferralSource = z.infer<typeof ReferralSource>;

export const AttachmentPresignedPost = z.looseObject({
  url: z.string(),
  fields: z.record(z.string(), z.string()),
});
export type AttachmentPresignedPost = z.infer<typeof AttachmentPresignedPost>;

export const PatientAttachment = z.looseObject({
  ...base,
  description: nullableString,
  filename: nullableString,
  content_type: nullableString,
  size: z.number().int().nullable().optional(),
  processing_completed: nullableBoolean,
  archived_at: timestamp,
  patient: link,
});
export type PatientAttachment = z.infer<typeof PatientAttachment>;

export const TreatmentNote = z.looseObject({
  ...base,
  title: nullableString,
  draft: nullableBoolean,
  finalized_at: timestamp,
  author_name: nullableString,
  patient: link,
  practitioner: link,
  booking: link,
  content: z.unknown().optional(),
  archived_at: timestamp,
});
export type TreatmentNote = z.infer<typeof TreatmentNote>;

export const TreatmentNoteTemplate = z.looseObject({
  ...base,
  name: z.string(),
  content: z.unknown().optional(),
  archived_at: timestamp,
});
export type TreatmentNoteTemplate = z.infer<typeof TreatmentNoteTemplate>;

/** The list envelope: `{<collection>: [...], total_entries, links: {self, next?, previous?}}`. */
export const ListEnvelope = z.looseObject({
  total_entries: z.number().int(),
  links: z.looseObject({
    self: z.string().optional(),
    next: z.string().optional(),
    previous: z.string().optional(),
  }),
});

export function listPage<S extends z.ZodType>(collection: string, item: S) {
  return ListEnvelope.and(z.object({ [collection]: z.array(item) })).transform((page) => ({
    items: (page as Record<string, unknown>)[collection] as z.infer<S>[],
    totalEntries: page.total_entries,
    next: page.links.next,
  }));
}

/** The id at the end of a link object's URL (`…/patients/82` → `"82"`). */
export function idFromLink(value: LinkObject | null | undefined): ClinikoId | undefined {
  const self = value?.links.self;
  if (!self) return undefined;
  const path = self.split('?')[0] ?? '';
  const last = path.split('/').filter(Boolean).pop();
  return last && /^\d+$/.test(last) ? last : undefined;
}

// Request bodies come straight from Cliniko's OpenAPI description.
type Body<K extends keyof components['requestBodies']> = NonNullable<
  components['requestBodies'][K] extends { content: { 'application/json': infer B } } ? B : never
>;
export type PatientBody = Body<'Patient'>;
export type ContactBody = Body<'Contact'>;
export type AppointmentTypeBody = Body<'AppointmentType'>;
export type IndividualAppointmentBody = Body<'IndividualAppointment'>;
export type IndividualAppointmentCancelBody = Body<'IndividualAppointmentCancel'>;
export type AttendeeUpdateBody = Body<'AttendeeUpdate'>;
export type MedicalAlertBody = Body<'MedicalAlert'>;
export type ReferralSourceBody = Body<'ReferralSource'>;
export type PatientAttachmentBody = Body<'UploadedPatientAttachment'>;
export type TreatmentNoteBody = Body<'TreatmentNote'>;
export type TreatmentNoteTemplateBody = Body<'TreatmentNoteTemplate'>;

type Schemas = components['schemas'];
type Conforms<Ours, Theirs> = Ours extends Theirs ? true : false;
type Assert<T extends true> = T;
export type SchemaChecks = [
  Assert<
    Conforms<
      Pick<Patient, 'id' | 'first_name' | 'last_name' | 'old_reference_id'>,
      Pick<Schemas['Patient'], 'id' | 'first_name' | 'last_name' | 'old_reference_id'>
    >
  >,
  Assert<
    Conforms<
      Pick<Contact, 'id' | 'type_code' | 'company_name'>,
      Pick<Schemas['Contact'], 'id' | 'type_code' | 'company_name'>
    >
  >,
  Assert<
    Conforms<
      Pick<AppointmentType, 'id' | 'name' | 'duration_in_minutes'>,
      Pick<Schemas['AppointmentType'], 'id' | 'name' | 'duration_in_minutes'>
    >
  >,
  Assert<
    Conforms<
      Pick<IndividualAppointment, 'id' | 'starts_at' | 'cancelled_at'>,
      Pick<Schemas['IndividualAppointment'], 'id' | 'starts_at' | 'cancelled_at'>
    >
  >,
  Assert<
    Conforms<
      Pick<PatientAttachment, 'id' | 'processing_completed' | 'size'>,
      Pick<Schemas['UploadedPatientAttachment'], 'id' | 'processing_completed' | 'size'>
    >
  >,
  Assert<Conforms<Pick<MedicalAlert, 'id' | 'name'>, Pick<Schemas['MedicalAlert'], 'id' | 'name'>>>,
  Assert<
    Conforms<
      Pick<TreatmentNote, 'id' | 'draft' | 'author_name'>,
      Pick<Schemas['TreatmentNote'], 'id' | 'draft' | 'author_name'>
    >
  >,
  Assert<
    Conforms<
      Pick<TreatmentNoteTemplate, 'id' | 'name'>,
      Pick<Schemas['TreatmentNoteTemplate'], 'id' | 'name'>
    >
  >,
  Assert<
    Conforms<
      Pick<Practitioner, 'id' | 'first_name' | 'active'>,
      Pick<Schemas['Practitioner'], 'id' | 'first_name' | 'active'>
    >
  >,
  Assert<
    Conforms<
      Pick<Business, 'id' | 'business_name' | 'time_zone_identifier'>,
      Pick<Schemas['Business'], 'id' | 'business_name' | 'time_zone_identifier'>
    >
  >,
];
