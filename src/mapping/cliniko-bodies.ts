import type {
  AppointmentTypeBody,
  ContactBody,
  IndividualAppointmentBody,
  IndividualAppointmentCancelBody,
  PatientBody,
} from '../cliniko/schemas.js';
import type * as M from '../core/canonical.js';
import type { Severity } from '../core/problem.js';

/**
 * Canonical records → Cliniko request bodies, following Cliniko's API documentation. Ids of other
 * records come from an `IdLookup` (the run's id map; placeholders in a dry run). A value over a
 * Cliniko limit is reported, never cut: a required one makes the record invalid, an optional one is
 * left out.
 */
export interface MappingIssue {
  /** The source column, so the clinic can find the value in its export. */
  readonly field: string;
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
}

export interface Mapped<B> {
  readonly body?: B;
  readonly issues: readonly MappingIssue[];
}

export type IdLookup = (
  entity: 'patients' | 'contacts' | 'appointmentTypes',
  sourceId: string,
) => string | undefined;

interface Limit {
  readonly max: number;
  readonly column: string;
  readonly required?: boolean;
}

function enforceLimits<B extends object>(
  body: B,
  limits: Record<string, Limit>,
  issues: MappingIssue[],
): B | undefined {
  const out = { ...body } as Record<string, unknown>;
  let invalid = false;
  for (const [field, limit] of Object.entries(limits)) {
    const value = out[field];
    if (typeof value !== 'string') continue;
    const length = [...value].length;
    if (length <= limit.max) continue;
    const message = `${limit.column} is ${length} characters; Cliniko's ${field} holds at most ${limit.max}`;
    if (limit.required) {
      invalid = true;
      issues.push({ field: limit.column, code: 'TOO_LONG', severity: 'error', message });
    } else {
      delete out[field];
      issues.push({
        field: limit.column,
        code: 'TOO_LONG',
        severity: 'warning',
        message: `${message}; left out`,
      });
    }
  }
  return invalid ? undefined : (out as B);
}

function withoutEmpty<T extends object>(obj: T): T {
  return Object.fromEntries(
    Object.entries(obj).filter(([, v]) => v !== undefined && v !== null && v !== ''),
  ) as T;
}

const COUNTRY_CODES: Record<string, string> = {
  'new zealand': 'NZ',
  nz: 'NZ',
  aotearoa: 'NZ',
  australia: 'AU',
  au: 'AU',
  'united kingdom': 'GB',
  uk: 'GB',
  gb: 'GB',
  england: 'GB',
  scotland: 'GB',
  wales: 'GB',
  'northern ireland': 'GB',
  ireland: 'IE',
  canada: 'CA',
  'united states': 'US',
  usa: 'US',
  us: 'US',
  'south africa': 'ZA',
  fiji: 'FJ',
  samoa: 'WS',
  tonga: 'TO',
  singapore: 'SG',
  india: 'IN',
};

function country(address: M.Address): { country_code?: string; country?: string } {
  if (!address.country) return {};
  const code = COUNTRY_CODES[address.country.trim().toLowerCase()];
  return code ? { country_code: code } : { country: address.country };
}

function addressFields(address: M.Address) {
  return {
    address_1: address.line1,
    address_2: address.line2,
    address_3: address.suburb,
    city: address.city,
    state: address.region,
    post_code: address.postCode,
    ...country(address),
  };
}

const ADDRESS_LIMITS: Record<string, Limit> = {
  address_1: { max: 255, column: 'Address1' },
  address_2: { max: 255, column: 'Address2' },
  address_3: { max: 255, column: 'Suburb' },
  city: { max: 255, column: 'City' },
};

export interface PatientPlan {
  readonly body: PatientBody & { old_reference_id: string; first_name: string; last_name: string };
  /** Medical alerts to create after the patient (one request each). */
  readonly alerts: readonly string[];
  /** The referring contact, set as the patient's referral source after the patient. */
  readonly referrerSourceId?: string;
}

export function mapPatient(
  patient: M.Patient,
  ids: IdLookup,
  doctorReferrer: (sourceId: string) => boolean,
): Mapped<PatientPlan> {
  const issues: MappingIssue[] = [];
  const notes = [
    patient.notes,
    patient.middleName ? `Middle name: ${patient.middleName}` : undefined,
    patient.nhi ? `NHI: ${patient.nhi}` : undefined,
    patient.employerSourceId
      ? `Employer (Gensolve ${patient.employerSourceId}) is a Cliniko contact`
      : undefined,
  ]
    .filter(Boolean)
    .join('\n');
  const referringDoctor =
    patient.referrerSourceId && doctorReferrer(patient.referrerSourceId)
      ? ids('contacts', patient.referrerSourceId)
      : undefined;
  const draft = withoutEmpty({
    first_name: patient.firstName,
    last_name: patient.lastName,
    title: patient.title,
    preferred_first_name: patient.preferredName,
    date_of_birth: patient.dateOfBirth,
    sex: patient.sex,
    gender_identity: patient.genderIdentity,
    email: patient.email,
    occupation: patient.occupation,
    emergency_contact: patient.emergencyContact,
    reminder_type: patient.reminderType,
    accepted_email_marketing: patient.emailMarketing,
    unsubscribe_sms_marketing: patient.smsMarketing === false ? true : undefined,
    notes: notes || undefined,
    old_reference_id: patient.sourceId,
    referring_doctor_id: referringDoctor,
    ...addressFields(patient.address),
  });
  const phones = patient.phones.map((ph) => ({ phone_type: ph.type, number: ph.number }));
  const body = enforceLimits(
    draft,
    {
      first_name: { max: 255, column: 'FirstName', required: true },
      last_name: { max: 255, column: 'LastName', required: true },
      old_reference_id: { max: 255, column: 'ClientId', required: true },
      title: { max: 255, column: 'Title' },
      preferred_first_name: { max: 255, column: 'PreferredName' },
      email: { max: 255, column: 'Email' },
      occupation: { max: 255, column: 'Occupation' },
      emergency_contact: { max: 255, column: 'EmergencyContactName' },
      ...ADDRESS_LIMITS,
    },
    issues,
  );
  const alerts: string[] = [];
  for (const alert of patient.alerts) {
    if ([...alert].length > 255) {
      issues.push({
        field: 'Alerts',
        code: 'TOO_LONG',
        severity: 'warning',
        message: `a medical alert is ${[...alert].length} characters; Cliniko holds at most 255; left out`,
      });
    } else alerts.push(alert);
  }
  for (const ph of phones) {
    if (ph.number.length > 255)
      issues.push({
        field: 'Phone',
        code: 'TOO_LONG',
        severity: 'warning',
        message: 'a phone number is over 255 characters; left out',
      });
  }
  if (!body) return { issues };
  const plan: PatientPlan = {
    body: {
      ...body,
      ...(phones.length ? { patient_phone_numbers: phones.filter((ph) => ph.number.length <= 255) } : {}),
    } as PatientPlan['body'],
    alerts,
    ...(patient.referrerSourceId ? { referrerSourceId: patient.referrerSourceId } : {}),
  };
  return { body: plan, issues };
}

export function mapContact(contact: M.Contact): Mapped<ContactBody> {
  const issues: MappingIssue[] = [];
  const draft = withoutEmpty({
    type_code: contact.typeCode,
    doctor_type: contact.doctorType,
    company_name: contact.companyName,
    title: contact.title,
    first_name: contact.firstName,
    last_name: contact.lastName,
    occupation: contact.occupation,
    provider_number: contact.providerNumber,
    email: contact.email,
    notes: contact.notes,
    ...addressFields(contact.address),
  });
  const nameColumn =
    contact.kind === 'referrer' ? 'LastName' : contact.kind === 'employer' ? 'CompanyName' : 'Name';
  const body = enforceLimits(
    draft as ContactBody,
    {
      company_name: {
        max: 255,
        column: contact.kind === 'referrer' ? 'PracticeName' : nameColumn,
        required: contact.kind !== 'referrer',
      },
      last_name: {
        max: 255,
        column: contact.kind === 'referrer' ? 'LastName' : 'ContactName',
        required: contact.kind === 'referrer',
      },
      first_name: { max: 255, column: contact.kind === 'employer' ? 'ContactFirstName' : 'FirstName' },
      occupation: { max: 255, column: 'ReferrerType' },
      provider_number: { max: 255, column: 'ProviderNumber' },
      email: { max: 255, column: 'Email' },
      ...ADDRESS_LIMITS,
    },
    issues,
  );
  if (!body) return { issues };
  const phones = contact.phones.map((ph) => ({ phone_type: ph.type, number: ph.number }));
  return { body: phones.length ? { ...body, phone_numbers: phones } : body, issues };
}

export const MIGRATED_TYPE_NAME = 'Migrated appointment';
export const DEFAULT_DURATION_MINUTES = 30;
export const DEFAULT_COLOUR = '#4A90E2';

export function mapAppointmentType(type: M.AppointmentType): Mapped<AppointmentTypeBody & { name: string }> {
  const issues: MappingIssue[] = [];
  const body = enforceLimits(
    withoutEmpty({
      name: type.name,
      duration_in_minutes: type.durationMinutes ?? DEFAULT_DURATION_MINUTES,
      color: type.colour ?? DEFAULT_COLOUR,
      category: type.category,
      description: type.description,
      max_attendees: 1,
    }),
    { name: { max: 255, column: 'Name', required: true } },
    issues,
  );
  return body ? { body, issues } : { issues };
}

/** The type created once for appointments whose type is missing or unknown. */
export function migratedAppointmentType(): AppointmentTypeBody & { name: string } {
  return {
    name: MIGRATED_TYPE_NAME,
    duration_in_minutes: DEFAULT_DURATION_MINUTES,
    color: '#9B9B9B',
    max_attendees: 1,
  };
}

export interface AppointmentPlan {
  readonly body: IndividualAppointmentBody & {
    patient_id: string;
    practitioner_id: string;
    starts_at: string;
  };
  readonly cancel?: IndividualAppointmentCancelBody;
  /** true: arrived; false: did not arrive (set through the appointment's attendee). */
  readonly arrived?: boolean;
}

export interface AppointmentRefs {
  readonly patientId: string;
  readonly practitionerId: string;
  readonly businessId: string;
  readonly appointmentTypeId: string;
}

export function mapAppointment(appointment: M.Appointment, refs: AppointmentRefs): Mapped<AppointmentPlan> {
  const body = withoutEmpty({
    patient_id: refs.patientId,
    practitioner_id: refs.practitionerId,
    business_id: refs.businessId,
    appointment_type_id: refs.appointmentTypeId,
    starts_at: appointment.startsAt,
    ends_at: appointment.endsAt,
    notes: appointment.notes,
  }) as AppointmentPlan['body'];
  const arrived =
    appointment.status === 'arrived' || appointment.status === 'completed'
      ? true
      : appointment.status === 'did-not-arrive'
        ? false
        : undefined;
  const plan: AppointmentPlan = {
    body,
    ...(appointment.status === 'cancelled'
      ? {
          cancel: withoutEmpty({
            cancellation_reason: (appointment.cancellationReason ??
              50) as IndividualAppointmentCancelBody['cancellation_reason'],
            cancellation_note: appointment.cancellationNote,
          }) as IndividualAppointmentCancelBody,
        }
      : {}),
    ...(arrived !== undefined ? { arrived } : {}),
  };
  return { body: plan, issues: [] };
}
