import { z } from 'zod';

/**
 * The canonical model: what a clinic's history is, independent of the system it came from and
 * of Cliniko's API. Source readers produce these; mapping turns them into Cliniko bodies.
 * Dates are `YYYY-MM-DD`; instants are UTC ISO strings ending in `Z`.
 */
const text = z.string().min(1);
const date = z.string().regex(/^\d{4}-\d{2}-\d{2}$/);
const instant = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/);

export const Address = z.object({
  line1: text.optional(),
  line2: text.optional(),
  suburb: text.optional(),
  city: text.optional(),
  region: text.optional(),
  postCode: text.optional(),
  country: text.optional(),
});
export type Address = z.infer<typeof Address>;

export const Phone = z.object({ type: z.enum(['Mobile', 'Home', 'Work', 'Fax', 'Other']), number: text });
export type Phone = z.infer<typeof Phone>;

export const Location = z.object({
  sourceId: text,
  name: text,
  timeZone: text.optional(),
  inactive: z.boolean(),
});
export type Location = z.infer<typeof Location>;

export const Practitioner = z.object({
  sourceId: text,
  firstName: text,
  lastName: text,
  title: text.optional(),
  inactive: z.boolean(),
});
export type Practitioner = z.infer<typeof Practitioner>;

export const AppointmentType = z.object({
  sourceId: text,
  name: text,
  durationMinutes: z.number().int().min(0).max(1440).optional(),
  category: text.optional(),
  colour: z
    .string()
    .regex(/^#[0-9A-Fa-f]{6}$/)
    .optional(),
  description: text.optional(),
  inactive: z.boolean(),
});
export type AppointmentType = z.infer<typeof AppointmentType>;

export const Contact = z.object({
  sourceId: text,
  kind: z.enum(['employer', 'referrer', 'debtor']),
  /** Cliniko contact type: 0 Standard, 1 Doctor, 2 3rd Party Payer. */
  typeCode: z.union([z.literal(0), z.literal(1), z.literal(2)]),
  doctorType: z.enum(['general_practitioner', 'specialist']).optional(),
  companyName: text.optional(),
  title: text.optional(),
  firstName: text.optional(),
  lastName: text.optional(),
  occupation: text.optional(),
  providerNumber: text.optional(),
  email: text.optional(),
  phones: z.array(Phone),
  address: Address,
  notes: text.optional(),
});
export type Contact = z.infer<typeof Contact>;

export const Patient = z.object({
  sourceId: text,
  firstName: text,
  lastName: text,
  middleName: text.optional(),
  preferredName: text.optional(),
  title: text.optional(),
  dateOfBirth: date.optional(),
  sex: text.optional(),
  genderIdentity: text.optional(),
  email: text.optional(),
  phones: z.array(Phone),
  address: Address,
  occupation: text.optional(),
  employerSourceId: text.optional(),
  referrerSourceId: text.optional(),
  nhi: text.optional(),
  emergencyContact: text.optional(),
  reminderType: z.enum(['None', 'SMS', 'Email', 'SMS & Email']).optional(),
  emailMarketing: z.boolean().optional(),
  smsMarketing: z.boolean().optional(),
  alerts: z.array(text),
  notes: text.optional(),
  inactive: z.boolean(),
  createdDate: date.optional(),
});
export type Patient = z.infer<typeof Patient>;

export const AppointmentStatus = z.enum(['booked', 'arrived', 'completed', 'cancelled', 'did-not-arrive']);
export type AppointmentStatus = z.infer<typeof AppointmentStatus>;

export const Appointment = z.object({
  sourceId: text,
  patientSourceId: text,
  practitionerSourceId: text,
  locationSourceId: text.optional(),
  appointmentTypeSourceId: text.optional(),
  /** Local wall-clock start as exported, and the zone it was read in (approval aids show both). */
  localStart: z.string(),
  timeZone: text,
  startsAt: instant,
  endsAt: instant.optional(),
  status: AppointmentStatus,
  /** Cliniko cancellation reason code (10, 20, 30, 31, 40, 50, 60). */
  cancellationReason: z.number().int().optional(),
  cancellationNote: text.optional(),
  notes: text.optional(),
});
export type Appointment = z.infer<typeof Appointment>;

export const ClinicalNote = z.object({
  sourceId: text,
  patientSourceId: text,
  date,
  /** Local `HH:mm` when the export gave the note's time: it orders a day's notes. */
  time: z
    .string()
    .regex(/^\d{2}:\d{2}$/)
    .optional(),
  practitionerSourceId: text.optional(),
  appointmentSourceId: text.optional(),
  noteType: text.optional(),
  assessmentType: text.optional(),
  /** Sections in column order; empty ones are left out. */
  sections: z.array(z.object({ title: text, text: z.string() })),
});
export type ClinicalNote = z.infer<typeof ClinicalNote>;

export const Document = z.object({
  sourceId: text,
  kind: z.enum(['letter', 'upload']),
  patientSourceId: text,
  /** The entry's path inside the archive. */
  path: text,
  size: z.number().int().min(0),
  date: date.optional(),
  title: text.optional(),
  recipientName: text.optional(),
  practitionerSourceId: text.optional(),
  contentType: text,
});
export type Document = z.infer<typeof Document>;
