import type * as M from '../core/canonical.js';
import type { RowResult } from '../core/problem.js';
import { formatDate } from '../core/values.js';
import type { SourceRow } from '../source/csv.js';
import type { RowContext } from './row-context.js';
import { compact, readRow, todayUtc } from './row-reader.js';

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

/**
 * A Clients.csv row → a patient: implausible birth dates, unknown reminder preferences and
 * dangling employer or referrer ids are reported and left out; an inactive client is skipped
 * unless `includeInactivePatients` (docs/EXPORT-FORMAT.md, The tables: Clients.csv).
 */
export function buildPatient(row: SourceRow, ctx: RowContext): RowResult<M.Patient> {
  const { p, v, required, optional, digitsOnly, date, bool, email, phone, address, sourceId } = readRow(
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
  // A contact the row names but the export does not hold is left out with a warning, never sent.
  const contactOf = (column: 'EmployerId' | 'ReferrerId', kind: 'employer' | 'referrer', file: string) => {
    const sourceId = optional(column);
    if (!sourceId || ctx.refs.contact(kind, sourceId)) return sourceId;
    p.warn(column, 'DANGLING_REFERENCE', `${column} ${sourceId} is not in ${file}; left out`);
    return undefined;
  };
  const employerSourceId = contactOf('EmployerId', 'employer', 'Employers.csv');
  const referrerSourceId = contactOf('ReferrerId', 'referrer', 'Referrers.csv');
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
    phones: [...phone('MobilePhone', 'Mobile'), ...phone('HomePhone', 'Home'), ...phone('WorkPhone', 'Work')],
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
