import { csvLine } from './export-zip.js';
import type { Generation } from './generation.js';
import { FIRST, LAST, LOCATIONS, PRACTITIONERS, SUBURBS, TYPES } from './vocabulary.js';

/** The clinic's own tables: locations, practitioners, appointment types (docs/EXPORT-FORMAT.md). */
export function* locationRows(g: Generation): Generator<string> {
  yield csvLine(['LocationId', 'Name', 'Address1', 'City', 'Country', 'TimeZone', 'Inactive']);
  for (const l of LOCATIONS) {
    g.count('locations');
    yield csvLine([l.id, l.name, '1 Main St', l.city, l.country, l.zone, 'N']);
  }
}

export function* practitionerRows(g: Generation): Generator<string> {
  yield csvLine(['PractitionerId', 'FirstName', 'LastName', 'Title', 'Email', 'Inactive']);
  for (const [id, f, l, inactive] of PRACTITIONERS) {
    g.count('practitioners');
    yield csvLine([id, f, l, 'Dr', `${f.toLowerCase()}@clinic.example.nz`, inactive]);
  }
}

export function* appointmentTypeRows(g: Generation): Generator<string> {
  yield csvLine([
    'AppointmentTypeId',
    'Name',
    'DurationMinutes',
    'Category',
    'Colour',
    'Description',
    'Inactive',
  ]);
  for (const [id, name, duration, category, colour] of TYPES) {
    g.count('appointmentTypes');
    yield csvLine([id, name, duration, category, colour, `${name} session`, 'N']);
  }
}

/** The contacts' tables: employers, referrers (in Windows-1252: curly quotes and accents), debtors. */
export function* employerRows(g: Generation): Generator<string> {
  yield csvLine([
    'EmployerId',
    'CompanyName',
    'ContactFirstName',
    'ContactLastName',
    'Email',
    'Phone',
    'City',
  ]);
  for (let i = 1; i <= g.employers; i++) {
    g.count('employers');
    yield csvLine([
      `E${i}`,
      `${g.pick(LAST)} Holdings Ltd`,
      g.pick(FIRST),
      g.pick(LAST),
      `accounts${i}@employer.example.nz`,
      `09 555 ${String(1000 + i).slice(-4)}`,
      'Auckland',
    ]);
  }
}

export function* referrerRows(g: Generation): Generator<string> {
  yield csvLine([
    'ReferrerId',
    'Title',
    'FirstName',
    'LastName',
    'PracticeName',
    'ReferrerType',
    'ProviderNumber',
    'Email',
    'Phone',
    'Fax',
  ]);
  for (let i = 1; i <= g.referrers; i++) {
    g.count('referrers');
    const type = g.pick(['GP', 'GP', 'Specialist', 'Physiotherapist', 'Other']);
    yield csvLine([
      `R${i}`,
      'Dr',
      i % 7 === 0 ? 'Renée' : g.pick(FIRST.filter((f) => !/[āĀ]/.test(f))),
      i % 5 === 0 ? 'O’Brien' : g.pick(LAST.filter((l) => l !== 'Müller')),
      `${g.pick(SUBURBS)} Medical – Centre`,
      type,
      `PN${1000 + i}`,
      `dr${i}@medical.example.nz`,
      `09 444 ${String(2000 + i).slice(-4)}`,
      `09 444 ${String(3000 + i).slice(-4)}`,
    ]);
  }
}

export function* debtorRows(g: Generation): Generator<string> {
  yield csvLine(['DebtorId', 'Name', 'ContactName', 'Email', 'AccountNumber']);
  const debtors = ['ACC', 'Southern Cross Health', 'nib', 'AIA'];
  for (const [i, name] of debtors.entries()) {
    g.count('debtors');
    yield csvLine([`D${i + 1}`, name, 'Claims Team', `claims${i + 1}@insurer.example.nz`, `AC${5000 + i}`]);
  }
}
