import type { MigrationConfig } from '../config/migration-config.js';
import type * as M from '../core/canonical.js';
import type { Problem, RowOutcome, RowResult, Severity } from '../core/problem.js';
import { localToUtc, toUtcString } from '../core/time-zone.js';
import {
  type DateOrderEvidence,
  formatDate,
  type LocalDate,
  parseBoolean,
  parseDate,
  parseDateTime,
  parseTime,
  parseWholeNumber,
} from '../core/values.js';
import type { SourceRow } from '../source/csv.js';
import { looksLikeMojibake } from '../source/encoding.js';
import type { SourceProfile } from '../source/profile.js';

/**
 * Row builders: one source row in, one canonical record (or none) out, with the row's outcome
 * and every problem found, following FORMAT.md's row outcomes exactly. They are pure: what they
 * need to know about other tables comes through `References`, so the same code runs in one
 * process over a whole export or in a Lambda over one batch.
 */
export interface PractitionerRef {
  /** `matched` (or reassigned) practitioners have a Cliniko id; the others follow the policy. */
  readonly status: 'matched' | 'unmatched' | 'excluded';
  readonly clinikoId?: string;
  /** As exported ("Dr Jane Smith"): shown on notes PDFs. */
  readonly name?: string;
}

export interface LocationRef {
  readonly timeZone: string;
  readonly businessId?: string;
  /** As exported ("Auckland Central"): shown in the report instead of the source id. */
  readonly name?: string;
}

export interface References {
  /** The outcome of a client's row, or undefined when the export has no such client. */
  patient(sourceId: string): RowOutcome | undefined;
  contact(kind: 'employer' | 'referrer' | 'debtor', sourceId: string): boolean;
  location(sourceId: string): LocationRef | undefined;
  practitioner(sourceId: string): PractitionerRef | undefined;
  appointmentType(sourceId: string): boolean;
  /** The zone of rows without a (known) location. */
  readonly defaultTimeZone: string;
  /** Looks a document up in the archive: undefined when missing, 'escapes' for unsafe paths. */
  document(path: string): { path: string; size: number } | 'escapes' | undefined;
}

export interface RowContext {
  readonly file: string;
  readonly entity: string;
  readonly profile: SourceProfile;
  readonly config: MigrationConfig;
  readonly refs: References;
  readonly evidence: DateOrderEvidence;
  /**
   * The export's date (manifest `exportedAt`, else today), in the clinic's calendar: birth dates
   * after it, or more than 120 years before it, are left out (FORMAT.md, CSV conventions).
   */
  readonly exportDate?: LocalDate;
}

const EMAIL = /^[A-Z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Z0-9.-]+\.[A-Z]{2,63}$/i;

/** Collects a row's problems and decides its outcome: any error makes it invalid. */
class RowProblems {
  readonly list: Problem[] = [];
  private skippedBy: string | undefined;

  constructor(
    private readonly ctx: RowContext,
    private readonly row: SourceRow,
    private readonly sourceId: string,
  ) {}

  add(severity: Severity, field: string, code: string, message: string): void {
    this.list.push({
      entity: this.ctx.entity,
      sourceId: this.sourceId,
      file: this.ctx.file,
      row: this.row.row,
      field,
      code,
      severity,
      message,
    });
  }
  error(field: string, code: string, message: string): void {
    this.add('error', field, code, message);
  }
  warn(field: string, code: string, message: string): void {
    this.add('warning', field, code, message);
  }
  skip(field: string, code: string, message: string): void {
    this.skippedBy ??= code;
    this.add('info', field, code, message);
  }

  get invalid(): boolean {
    return this.list.some((p) => p.severity === 'error');
  }

  result<T>(record: T | undefined): RowResult<T> {
    if (this.invalid || record === undefined) return { outcome: 'invalid', problems: this.list };
    if (this.skippedBy) return { outcome: 'skipped', problems: this.list };
    return { outcome: 'planned', record, problems: this.list };
  }
}

function begin(ctx: RowContext, row: SourceRow, key: string) {
  const sourceId = row.values[key] ?? '';
  const p = new RowProblems(ctx, row, sourceId);
  if (row.fieldCountMismatch !== undefined) {
    p.warn(
      '',
      'FIELD_COUNT',
      `record has ${row.fieldCountMismatch} fields where the header has a different number; check for a broken quote`,
    );
  }
  for (const field of row.strayQuoteFields ?? []) {
    if (row.fieldCountMismatch !== undefined)
      p.error(
        field,
        'BROKEN_QUOTES',
        `${field} holds a quote that is not doubled, and the row's fields no longer line up with the header; held back so no text lands in the wrong field (fix the quotes and export again)`,
      );
    else
      p.warn(
        field,
        'UNESCAPED_QUOTE',
        `${field} holds a quote that is not doubled; read as text, the row's fields line up with the header (check the value)`,
      );
  }
  const spec = ctx.profile.tables.find((t) =>
    t.files.some((f) => f.toLowerCase() === ctx.file.toLowerCase()),
  );
  const undecodable = new Set<string>();
  /** Text that cannot reach Cliniko as the clinic typed it is reported, and never written garbled. */
  const clean = (column: string, value: string): string => {
    if (!value) return value;
    if (looksLikeMojibake(value)) {
      undecodable.add(column);
      const message = value.includes('\uFFFD')
        ? `${column} holds bytes that are neither UTF-8 nor Windows-1252`
        : `${column} looks garbled by a wrong character encoding upstream`;
      if (spec?.required.includes(column) || column === key)
        p.error(column, 'UNDECODABLE_TEXT', `${message}; the row is held back`);
      else p.warn(column, 'UNDECODABLE_TEXT', `${message}; left out`);
      return '';
    }
    if (value.includes('\u0000')) {
      // Cliniko keeps text in a database that refuses NUL characters; the rest of the text goes.
      p.warn(
        column,
        'UNSUPPORTED_CHARACTER',
        `${column} holds NUL characters, which Cliniko cannot store; removed`,
      );
      return value.replaceAll('\u0000', '');
    }
    return value;
  };
  const v: Record<string, string> = {};
  for (const [column, value] of Object.entries(row.values)) v[column] = clean(column, value);
  const extra = row.extra.map((e) => ({ header: e.header, value: clean(e.header, e.value) }));
  /** A required text column: empty makes the row invalid. */
  const required = (column: string): string => {
    const value = v[column] ?? '';
    if (value === '' && !undecodable.has(column))
      p.error(column, 'REQUIRED_MISSING', `${column} is required but empty`);
    return value;
  };
  const optional = (column: string): string | undefined => (v[column] ? v[column] : undefined);
  const date = (column: string, isRequired: boolean): LocalDate | undefined => {
    const raw = v[column] ?? '';
    if (raw === '') {
      if (isRequired) p.error(column, 'REQUIRED_MISSING', `${column} is required but empty`);
      return undefined;
    }
    const parsed = parseDate(raw, ctx.profile.dateOrder);
    if (!parsed.ok) {
      if (isRequired) p.error(column, 'INVALID_DATE', `${column} ${parsed.reason}`);
      else p.warn(column, 'INVALID_DATE', `${column} ${parsed.reason}; left out`);
      return undefined;
    }
    ctx.evidence.observe(ctx.file, column, parsed.first);
    return parsed.value;
  };
  /** A date-time column: the time is `HH:mm` when the value has one that is not midnight. */
  const dateTime = (column: string, isRequired: boolean): { date: LocalDate; time?: string } | undefined => {
    const raw = v[column] ?? '';
    if (raw === '') {
      if (isRequired) p.error(column, 'REQUIRED_MISSING', `${column} is required but empty`);
      return undefined;
    }
    const parsed = parseDateTime(raw, ctx.profile.dateOrder);
    if (!parsed.ok) {
      if (isRequired) p.error(column, 'INVALID_DATE', `${column} ${parsed.reason}`);
      else p.warn(column, 'INVALID_DATE', `${column} ${parsed.reason}; left out`);
      return undefined;
    }
    ctx.evidence.observe(ctx.file, column, parseDate(raw, ctx.profile.dateOrder).first);
    const { hour, minute } = parsed.value.time;
    return hour || minute
      ? {
          date: parsed.value.date,
          time: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`,
        }
      : { date: parsed.value.date };
  };
  const bool = (column: string): boolean | undefined => {
    const parsed = parseBoolean(v[column] ?? '', ctx.profile.booleans);
    if (parsed.ok) return parsed.value;
    p.warn(column, 'INVALID_BOOLEAN', `${column} ${parsed.reason}; left out`);
    return undefined;
  };
  const email = (column: string): string | undefined => {
    const value = optional(column);
    if (value && !EMAIL.test(value)) {
      p.warn(
        column,
        'INVALID_EMAIL',
        `${column} "${value}" is not an e-mail address Cliniko accepts; left out`,
      );
      return undefined;
    }
    return value;
  };
  const phone = (column: string, type: M.Phone['type']): M.Phone | undefined => {
    const value = optional(column);
    if (!value) return undefined;
    const damage = spreadsheetDamage(value);
    if (damage) {
      p.warn(column, 'INVALID_PHONE', `${column} "${value}" ${damage}; left out`);
      return undefined;
    }
    const digits = value.replace(/\D/g, '');
    if (digits.length < 5 || /[^\d\s+().\-/xXext#*]/.test(value)) {
      p.warn(column, 'INVALID_PHONE', `${column} "${value}" is not a phone number; left out`);
      return undefined;
    }
    return { type, number: value };
  };
  /** An optional value a spreadsheet may have turned into a number (post codes, numbers to dial). */
  const digitsOnly = (column: string): string | undefined => {
    const value = optional(column);
    const damage = value ? spreadsheetDamage(value) : undefined;
    if (!damage) return value;
    p.warn(column, 'SPREADSHEET_NUMBER', `${column} "${value}" ${damage}; left out`);
    return undefined;
  };
  const address = (): M.Address =>
    compact({
      line1: optional('Address1'),
      line2: optional('Address2'),
      suburb: optional('Suburb'),
      city: optional('City'),
      region: optional('Region'),
      postCode: digitsOnly('PostCode'),
      country: optional('Country'),
    });
  return {
    v,
    p,
    sourceId,
    extra,
    required,
    optional,
    digitsOnly,
    date,
    dateTime,
    bool,
    email,
    phone,
    address,
  };
}

/**
 * How a spreadsheet damaged a number that was text (a phone number, a post code): scientific
 * notation loses digits, a trailing `.0` shows it was stored as a float (which also drops leading
 * zeros), so the value is not the one the clinic typed (FORMAT.md, CSV conventions).
 */
export function spreadsheetDamage(value: string): string | undefined {
  const t = value.trim();
  if (/^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$/.test(t))
    return 'is in scientific notation (a spreadsheet rounded it; digits are lost)';
  if (/^\+?\d+[.,]0+$/.test(t))
    return 'ends in ".0" (a spreadsheet stored it as a number; a leading zero may be lost)';
  return undefined;
}

function todayUtc(): LocalDate {
  const d = new Date();
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Drops undefined properties so optional canonical fields are truly absent. */
function compact<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, value]) => value !== undefined)) as T;
}

export function buildLocation(row: SourceRow, ctx: RowContext): RowResult<M.Location> {
  const { p, required, optional, bool, sourceId } = begin(ctx, row, 'LocationId');
  required('LocationId');
  const name = required('Name');
  const timeZone = optional('TimeZone');
  const record = compact({ sourceId, name, timeZone, inactive: bool('Inactive') ?? false });
  return p.result(p.invalid ? undefined : record);
}

export function buildPractitioner(row: SourceRow, ctx: RowContext): RowResult<M.Practitioner> {
  const { p, required, optional, bool, sourceId } = begin(ctx, row, 'PractitionerId');
  required('PractitionerId');
  const record = compact({
    sourceId,
    firstName: required('FirstName'),
    lastName: required('LastName'),
    title: optional('Title'),
    inactive: bool('Inactive') ?? false,
  });
  return p.result(p.invalid ? undefined : record);
}

export function buildAppointmentType(row: SourceRow, ctx: RowContext): RowResult<M.AppointmentType> {
  const { p, v, required, optional, bool, sourceId } = begin(ctx, row, 'AppointmentTypeId');
  required('AppointmentTypeId');
  const name = required('Name');
  let durationMinutes: number | undefined;
  if (v.DurationMinutes) {
    const parsed = parseWholeNumber(v.DurationMinutes, 0, 1440);
    if (parsed.ok) durationMinutes = parsed.value;
    else
      p.warn('DurationMinutes', 'INVALID_DURATION', `DurationMinutes ${parsed.reason}; the default is used`);
  }
  let colour = optional('Colour');
  if (colour && !/^#?[0-9A-Fa-f]{6}$/.test(colour)) {
    p.warn('Colour', 'INVALID_COLOUR', `Colour "${colour}" is not #RRGGBB; the default is used`);
    colour = undefined;
  }
  if (colour && !colour.startsWith('#')) colour = `#${colour}`;
  const record = compact({
    sourceId,
    name,
    durationMinutes,
    category: optional('Category'),
    colour,
    description: optional('Description'),
    inactive: bool('Inactive') ?? false,
  });
  return p.result(p.invalid ? undefined : record);
}

const REFERRER_TYPES: Record<
  string,
  { typeCode: 0 | 1; doctorType?: 'general_practitioner' | 'specialist'; occupation?: string }
> = {
  gp: { typeCode: 1, doctorType: 'general_practitioner' },
  'general practitioner': { typeCode: 1, doctorType: 'general_practitioner' },
  specialist: { typeCode: 1, doctorType: 'specialist' },
  physiotherapist: { typeCode: 0, occupation: 'Physiotherapist' },
  other: { typeCode: 0 },
};

export function buildContact(kind: M.Contact['kind'], row: SourceRow, ctx: RowContext): RowResult<M.Contact> {
  const key = kind === 'employer' ? 'EmployerId' : kind === 'referrer' ? 'ReferrerId' : 'DebtorId';
  const { p, v, required, optional, email, phone, address, sourceId } = begin(ctx, row, key);
  required(key);
  const phones = [phone('Phone', 'Work'), phone('Fax', 'Fax')].filter((x): x is M.Phone => x !== undefined);
  let record: M.Contact;
  if (kind === 'employer') {
    record = compact({
      sourceId,
      kind,
      typeCode: 0 as const,
      companyName: required('CompanyName'),
      firstName: optional('ContactFirstName'),
      lastName: optional('ContactLastName'),
      email: email('Email'),
      phones,
      address: address(),
      notes: optional('Notes'),
    });
  } else if (kind === 'referrer') {
    const lastName = required('LastName');
    const rawType = (v.ReferrerType ?? '').trim().toLowerCase();
    let type = REFERRER_TYPES[rawType];
    if (rawType && !type) {
      p.warn(
        'ReferrerType',
        'UNKNOWN_VALUE',
        `ReferrerType "${v.ReferrerType}" is not GP, Specialist, Physiotherapist or Other; Standard is used`,
      );
    }
    type ??= { typeCode: 0 };
    record = compact({
      sourceId,
      kind,
      typeCode: type.typeCode,
      doctorType: type.doctorType,
      occupation: type.occupation ?? (rawType && !REFERRER_TYPES[rawType] ? v.ReferrerType : undefined),
      title: optional('Title'),
      firstName: optional('FirstName'),
      lastName,
      companyName: optional('PracticeName'),
      providerNumber: optional('ProviderNumber'),
      email: email('Email'),
      phones,
      address: address(),
    });
  } else {
    const name = required('Name');
    const contactName = optional('ContactName');
    const [first, ...rest] = (contactName ?? '').split(/\s+/).filter(Boolean);
    const account = optional('AccountNumber');
    record = compact({
      sourceId,
      kind,
      typeCode: 2 as const,
      companyName: name,
      firstName: rest.length ? first : undefined,
      lastName: rest.length ? rest.join(' ') : first,
      email: email('Email'),
      phones,
      address: address(),
      notes: account ? `Account number: ${account}` : undefined,
    });
  }
  return p.result(p.invalid ? undefined : record);
}

const SEX: Record<string, string | null> = {
  m: 'Male',
  male: 'Male',
  man: 'Male',
  f: 'Female',
  female: 'Female',
  woman: 'Female',
  x: 'X',
  u: null,
  unknown: null,
  '': null,
};
const REMINDERS: Record<string, M.Patient['reminderType']> = {
  sms: 'SMS',
  text: 'SMS',
  email: 'Email',
  'e-mail': 'Email',
  both: 'SMS & Email',
  'sms & email': 'SMS & Email',
  none: 'None',
  no: 'None',
};

export function buildPatient(row: SourceRow, ctx: RowContext): RowResult<M.Patient> {
  const { p, v, required, optional, digitsOnly, date, bool, email, phone, address, sourceId } = begin(
    ctx,
    row,
    'ClientId',
  );
  required('ClientId');
  const firstName = required('FirstName');
  const lastName = required('LastName');
  let dob = date('DateOfBirth', false);
  if (dob) {
    const on = ctx.exportDate ?? todayUtc();
    const iso = formatDate(dob);
    if (iso > formatDate(on)) {
      p.warn('DateOfBirth', 'IMPLAUSIBLE_DATE', `DateOfBirth ${iso} is after the export's date; left out`);
      dob = undefined;
    } else if (iso < formatDate({ ...on, year: on.year - 120 })) {
      p.warn(
        'DateOfBirth',
        'IMPLAUSIBLE_DATE',
        `DateOfBirth ${iso} is more than 120 years before the export; left out`,
      );
      dob = undefined;
    }
  }
  const gender = (v.Gender ?? '').trim();
  const sexKey = gender.toLowerCase();
  const sex = sexKey in SEX ? SEX[sexKey] : gender;
  const reminderRaw = (v.ReminderPreference ?? '').trim().toLowerCase();
  const reminderType = reminderRaw ? REMINDERS[reminderRaw] : undefined;
  if (reminderRaw && !reminderType)
    p.warn(
      'ReminderPreference',
      'UNKNOWN_VALUE',
      `ReminderPreference "${v.ReminderPreference}" is not SMS, Email, Both or None; left out`,
    );
  let employerSourceId = optional('EmployerId');
  if (employerSourceId && !ctx.refs.contact('employer', employerSourceId)) {
    p.warn(
      'EmployerId',
      'DANGLING_REFERENCE',
      `EmployerId ${employerSourceId} is not in Employers.csv; left out`,
    );
    employerSourceId = undefined;
  }
  let referrerSourceId = optional('ReferrerId');
  if (referrerSourceId && !ctx.refs.contact('referrer', referrerSourceId)) {
    p.warn(
      'ReferrerId',
      'DANGLING_REFERENCE',
      `ReferrerId ${referrerSourceId} is not in Referrers.csv; left out`,
    );
    referrerSourceId = undefined;
  }
  const emergencyName = optional('EmergencyContactName');
  const emergencyPhone = digitsOnly('EmergencyContactPhone');
  const emergencyContact =
    [emergencyName, emergencyPhone && emergencyName ? `(${emergencyPhone})` : emergencyPhone]
      .filter(Boolean)
      .join(' ') || undefined;
  const inactive = bool('Inactive') ?? false;
  if (inactive && !ctx.config.includeInactivePatients)
    p.skip('Inactive', 'INACTIVE_EXCLUDED', 'inactive client, excluded by includeInactivePatients: false');
  const alerts = (v.Alerts ?? '')
    .split(';')
    .map((a) => a.trim())
    .filter(Boolean);
  const created = date('CreatedDate', false);
  const record = compact({
    sourceId,
    firstName,
    lastName,
    middleName: optional('MiddleName'),
    preferredName: optional('PreferredName'),
    title: optional('Title'),
    dateOfBirth: dob ? formatDate(dob) : undefined,
    sex: sex ?? undefined,
    email: email('Email'),
    phones: [phone('MobilePhone', 'Mobile'), phone('HomePhone', 'Home'), phone('WorkPhone', 'Work')].filter(
      (x): x is M.Phone => x !== undefined,
    ),
    address: address(),
    occupation: optional('Occupation'),
    employerSourceId,
    referrerSourceId,
    nhi: optional('NHI'),
    emergencyContact,
    reminderType,
    emailMarketing: bool('EmailMarketing'),
    smsMarketing: bool('SmsMarketing'),
    alerts,
    notes: optional('Notes'),
    inactive,
    createdDate: created ? formatDate(created) : undefined,
  });
  return p.result(p.invalid ? undefined : record);
}

/** Checks a child row's client: missing or invalid makes it invalid, skipped makes it skipped. */
function checkParent(p: RowProblems, ctx: RowContext, clientId: string): void {
  if (!clientId) return;
  const parent = ctx.refs.patient(clientId);
  if (parent === undefined)
    p.error('ClientId', 'PARENT_MISSING', `ClientId ${clientId} is not in Clients.csv`);
  else if (parent === 'invalid')
    p.error('ClientId', 'PARENT_INVALID', `client ${clientId} is invalid, so this row cannot be written`);
  else if (parent === 'skipped')
    p.skip('ClientId', 'PARENT_SKIPPED', `client ${clientId} is skipped, so this row is too`);
}

const STATUS: Record<string, M.AppointmentStatus> = {
  booked: 'booked',
  confirmed: 'booked',
  arrived: 'arrived',
  completed: 'completed',
  complete: 'completed',
  attended: 'completed',
  cancelled: 'cancelled',
  canceled: 'cancelled',
  dna: 'did-not-arrive',
  'did not arrive': 'did-not-arrive',
  'did not attend': 'did-not-arrive',
  'no show': 'did-not-arrive',
};

/** Cliniko's cancellation reason codes, chosen from the source's free-text reason. */
export function cancellationCode(reason: string | undefined): number {
  const r = (reason ?? '').toLowerCase();
  if (/covid/.test(r)) return 31;
  if (/better|improv|recovered/.test(r)) return 10;
  if (/worse/.test(r)) return 20;
  if (/sick|ill|unwell/.test(r)) return 30;
  if (/away|holiday|travel|vacation/.test(r)) return 40;
  if (/work/.test(r)) return 60;
  return 50;
}

export function buildAppointment(row: SourceRow, ctx: RowContext): RowResult<M.Appointment> {
  const { p, v, required, optional, date, sourceId } = begin(ctx, row, 'AppointmentId');
  required('AppointmentId');
  const clientId = required('ClientId');
  const practitionerId = required('PractitionerId');
  const day = date('StartDate', true);
  const startRaw = required('StartTime');
  const startTime = startRaw ? parseTime(startRaw) : undefined;
  if (startTime && !startTime.ok) p.error('StartTime', 'INVALID_TIME', `StartTime ${startTime.reason}`);
  checkParent(p, ctx, clientId);

  if (practitionerId) {
    const practitioner = ctx.refs.practitioner(practitionerId);
    if (!practitioner)
      p.error(
        'PractitionerId',
        'PARENT_MISSING',
        `PractitionerId ${practitionerId} is not in Practitioners.csv`,
      );
    else if (practitioner.status === 'unmatched') {
      p.error(
        'PractitionerId',
        'UNMATCHED_PRACTITIONER',
        `practitioner ${practitionerId} matches no Cliniko practitioner (unmatchedPractitioners: "fail")`,
      );
    } else if (practitioner.status === 'excluded') {
      p.skip(
        'PractitionerId',
        'PRACTITIONER_EXCLUDED',
        `practitioner ${practitionerId} is excluded by unmatchedPractitioners: "exclude"`,
      );
    }
  }
  let locationId = optional('LocationId');
  const location = locationId ? ctx.refs.location(locationId) : undefined;
  if (!locationId)
    p.warn('LocationId', 'LOCATION_MISSING', "no LocationId; the clinic's default business is used");
  else if (!location) {
    p.warn(
      'LocationId',
      'LOCATION_UNKNOWN',
      `LocationId ${locationId} is not in Locations.csv; the clinic's default business is used`,
    );
    locationId = undefined;
  }
  const zone = location?.timeZone ?? ctx.refs.defaultTimeZone;

  let typeId = optional('AppointmentTypeId');
  if (!typeId)
    p.warn(
      'AppointmentTypeId',
      'APPOINTMENT_TYPE_MISSING',
      'no AppointmentTypeId; "Migrated appointment" is used',
    );
  else if (!ctx.refs.appointmentType(typeId)) {
    p.warn(
      'AppointmentTypeId',
      'APPOINTMENT_TYPE_UNKNOWN',
      `AppointmentTypeId ${typeId} is not in AppointmentTypes.csv; "Migrated appointment" is used`,
    );
    typeId = undefined;
  }

  const statusRaw = (v.Status ?? '').trim().toLowerCase();
  let status: M.AppointmentStatus = STATUS[statusRaw] ?? 'booked';
  if (statusRaw && !STATUS[statusRaw]) {
    p.warn(
      'Status',
      'UNKNOWN_VALUE',
      `Status "${v.Status}" is not Booked, Arrived, Completed, Cancelled or DNA; kept as booked`,
    );
  }
  if (status !== 'cancelled' && (v.CancelledDate || v.CancellationReason) && !statusRaw) status = 'cancelled';

  if (p.invalid || !day || !startTime?.ok) return p.result<M.Appointment>(undefined);

  const start = localToUtc(day, startTime.value, zone);
  const localStart = `${formatDate(day)} ${String(startTime.value.hour).padStart(2, '0')}:${String(startTime.value.minute).padStart(2, '0')}`;
  if (start.adjustment === 'gap') {
    p.warn(
      'StartTime',
      'DST_GAP',
      `${localStart} does not exist in ${zone} (clocks went forward); moved later by the gap to ${toUtcString(start.utc)}`,
    );
  } else if (start.adjustment === 'overlap') {
    p.warn(
      'StartTime',
      'DST_OVERLAP',
      `${localStart} happened twice in ${zone} (clocks went back); the earlier one, ${toUtcString(start.utc)}, is used`,
    );
  }

  let endsAt: string | undefined;
  if (v.EndTime) {
    const end = parseTime(v.EndTime);
    if (!end.ok) p.warn('EndTime', 'INVALID_TIME', `EndTime ${end.reason}; the duration is used instead`);
    else {
      const endUtc = localToUtc(day, end.value, zone).utc;
      if (endUtc.getTime() <= start.utc.getTime())
        p.warn(
          'EndTime',
          'INVALID_TIME',
          `EndTime ${v.EndTime} is not after StartTime; the duration is used instead`,
        );
      else endsAt = toUtcString(endUtc);
    }
  }
  if (!endsAt && v.DurationMinutes) {
    const duration = parseWholeNumber(v.DurationMinutes, 1, 1440);
    if (duration.ok) endsAt = toUtcString(new Date(start.utc.getTime() + duration.value * 60_000));
    else
      p.warn(
        'DurationMinutes',
        'INVALID_DURATION',
        `DurationMinutes ${duration.reason}; the appointment type's duration is used`,
      );
  }

  const reason = optional('CancellationReason');
  const cancelledDate = optional('CancelledDate');
  const record = compact({
    sourceId,
    patientSourceId: clientId,
    practitionerSourceId: practitionerId,
    locationSourceId: locationId,
    appointmentTypeSourceId: typeId,
    localStart,
    timeZone: zone,
    startsAt: toUtcString(start.utc),
    endsAt,
    status,
    cancellationReason: status === 'cancelled' ? cancellationCode(reason) : undefined,
    cancellationNote:
      status === 'cancelled'
        ? [reason, cancelledDate ? `cancelled ${cancelledDate}` : undefined].filter(Boolean).join('; ') ||
          undefined
        : undefined,
    notes: optional('Notes'),
  });
  return p.result(record);
}

export function buildClinicalNote(row: SourceRow, ctx: RowContext): RowResult<M.ClinicalNote> {
  const { p, required, optional, dateTime, sourceId, extra } = begin(ctx, row, 'NoteId');
  required('NoteId');
  const clientId = required('ClientId');
  // NoteDate is a date-time column: its time, when there is one, orders a day's notes.
  const at = dateTime('NoteDate', true);
  const day = at?.date;
  checkParent(p, ctx, clientId);
  const sections = extra.filter((s) => s.value !== '').map((s) => ({ title: s.header, text: s.value }));
  if (p.invalid || !day) return p.result<M.ClinicalNote>(undefined);
  const record = compact({
    sourceId,
    patientSourceId: clientId,
    date: formatDate(day),
    time: at?.time,
    practitionerSourceId: optional('PractitionerId'),
    appointmentSourceId: optional('AppointmentId'),
    noteType: optional('NoteType'),
    assessmentType: optional('AssessmentType'),
    sections,
  });
  return p.result(record);
}

const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  rtf: 'application/rtf',
  txt: 'text/plain',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  heic: 'image/heic',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html',
  htm: 'text/html',
};

export function contentTypeFor(path: string, given?: string): string {
  if (given && /^[\w.+-]+\/[\w.+-]+$/.test(given)) return given;
  const ext = path.split('.').pop()?.toLowerCase() ?? '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

export function buildDocument(
  kind: M.Document['kind'],
  row: SourceRow,
  ctx: RowContext,
): RowResult<M.Document> {
  const key = kind === 'letter' ? 'LetterId' : 'UploadId';
  const { p, v, required, optional, date, sourceId } = begin(ctx, row, key);
  required(key);
  const clientId = required('ClientId');
  const rawPath = required('FilePath');
  const day = kind === 'letter' ? date('LetterDate', true) : date('UploadDate', false);
  checkParent(p, ctx, clientId);
  let found: { path: string; size: number } | undefined;
  if (rawPath) {
    const doc = ctx.refs.document(rawPath);
    if (doc === 'escapes')
      p.error(
        'FilePath',
        'PATH_ESCAPES_ARCHIVE',
        `FilePath "${rawPath}" points outside the export; it is never read`,
      );
    else if (!doc) p.error('FilePath', 'FILE_MISSING', `FilePath "${rawPath}" is not in the export`);
    // An empty attachment helps no one and hides that the file was lost before the export.
    else if (doc.size === 0)
      p.error('FilePath', 'FILE_EMPTY', `FilePath "${rawPath}": the file is empty (0 bytes); not uploaded`);
    else found = doc;
  }
  if (p.invalid || !found) return p.result<M.Document>(undefined);
  const record = compact({
    sourceId,
    kind,
    patientSourceId: clientId,
    path: found.path,
    size: found.size,
    date: day ? formatDate(day) : undefined,
    title: kind === 'letter' ? optional('Subject') : optional('Description'),
    recipientName: kind === 'letter' ? optional('RecipientName') : undefined,
    practitionerSourceId: kind === 'letter' ? optional('PractitionerId') : undefined,
    contentType: contentTypeFor(found.path, v.ContentType),
  });
  return p.result(record);
}
