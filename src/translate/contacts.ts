import type * as M from '../core/canonical.js';
import type { RowResult } from '../core/problem.js';
import type { SourceRow } from '../source/csv.js';
import type { RowContext } from './row-context.js';
import { compact, readRow } from './row-reader.js';

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

/**
 * An Employers.csv, Referrers.csv or Debtors.csv row → a Cliniko contact (Cliniko's API
 * documentation on contacts): employers and debtors as companies (type 0 and 3rd-party payer),
 * referrers as doctors when their ReferrerType says GP or Specialist.
 */
export function buildContact(kind: M.Contact['kind'], row: SourceRow, ctx: RowContext): RowResult<M.Contact> {
  const key = kind === 'employer' ? 'EmployerId' : kind === 'referrer' ? 'ReferrerId' : 'DebtorId';
  const { p, v, required, optional, email, phone, address, sourceId } = readRow(ctx, row, key);
  required(key);
  const phones = [...phone('Phone', 'Work'), ...phone('Fax', 'Fax')];
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
