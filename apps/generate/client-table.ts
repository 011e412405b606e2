import { csvLine, dmy } from './export-zip.js';
import type { Generation } from './generation.js';
import { ALERTS, FIRST, LAST, STREETS, SUBURBS } from './vocabulary.js';

/**
 * Clients.csv: macrons, an unknown column (`LegacyFlag`), messy values (an impossible date of
 * birth, a broken e-mail, `N/A` phones, a missing last name), dangling employer and referrer ids,
 * and duplicate rows (docs/EXPORT-FORMAT.md). Written in UTF-8 with a BOM.
 */
export function* clientRows(g: Generation): Generator<string> {
  yield csvLine([
    'ClientId',
    'FirstName',
    'LastName',
    'Title',
    'PreferredName',
    'DateOfBirth',
    'Gender',
    'Email',
    'MobilePhone',
    'HomePhone',
    'Address1',
    'Suburb',
    'City',
    'PostCode',
    'Country',
    'Occupation',
    'EmployerId',
    'ReferrerId',
    'NHI',
    'EmergencyContactName',
    'EmergencyContactPhone',
    'ReminderPreference',
    'EmailMarketing',
    'SmsMarketing',
    'Alerts',
    'Notes',
    'Inactive',
    'CreatedDate',
    'LegacyFlag',
  ]);
  for (let i = 1; i <= g.n; i++) {
    const first = g.pick(FIRST);
    const last = g.pick(LAST);
    const born = new Date(
      Date.UTC(
        1940 + Math.floor(g.random() * 70),
        Math.floor(g.random() * 12),
        1 + Math.floor(g.random() * 28),
      ),
    );
    let dob = dmy(born);
    if (g.chance(0.003) || g.forced(i, 6)) dob = '31/02/1980';
    let email = `${first}.${last}${i}@example.co.nz`.toLowerCase().replace(/[^a-z0-9.@]/g, '');
    if (g.chance(0.01) || g.forced(i, 5)) email = `${first.toLowerCase()} at example`;
    const employer =
      g.random() < 0.3
        ? g.chance(0.05)
          ? `E${g.employers + 99}`
          : `E${1 + Math.floor(g.random() * g.employers)}`
        : '';
    const referrer =
      g.random() < 0.4
        ? g.chance(0.05)
          ? `R${g.referrers + 99}`
          : `R${1 + Math.floor(g.random() * g.referrers)}`
        : '';
    const alerts =
      g.random() < 0.1 ? [g.pick(ALERTS), ...(g.random() < 0.3 ? [g.pick(ALERTS)] : [])].join('; ') : '';
    const notes = g.random() < 0.05 ? `Prefers morning appointments.\nParks at the back, "blue car".` : '';
    const row = [
      `C${i}`,
      first,
      g.chance(0.001) || g.forced(i, 9) ? '' : last,
      g.pick(['Mr', 'Ms', 'Mrs', 'Dr', '']),
      g.random() < 0.1 ? first.slice(0, 3) : '',
      dob,
      g.pick(['M', 'F', 'F', 'M', 'X', 'U', 'Female']),
      email,
      g.chance(0.01) || g.forced(i, 7) ? 'N/A' : `021 ${String(100000 + Math.floor(g.random() * 899999))}`,
      g.random() < 0.3 ? `09 ${String(3000000 + Math.floor(g.random() * 999999))}` : '',
      `${1 + Math.floor(g.random() * 300)} ${g.pick(STREETS)}`,
      g.pick(SUBURBS),
      'Auckland',
      String(1000 + Math.floor(g.random() * 1000)),
      'New Zealand',
      g.pick(['Teacher', 'Builder', 'Nurse', 'Retired', 'Student', '']),
      employer,
      referrer,
      g.random() < 0.5 ? `ABC${String(1000 + (i % 9000)).padStart(4, '0')}` : '',
      g.random() < 0.5 ? `${g.pick(FIRST)} ${g.pick(LAST)}` : '',
      g.random() < 0.5 ? '027 555 0101' : '',
      g.pick(['SMS', 'Email', 'Both', 'None', '']),
      g.pick(['Y', 'N', '']),
      g.pick(['Y', 'N', '']),
      alerts,
      notes,
      g.random() < 0.05 ? 'Y' : 'N',
      dmy(g.someDay()),
      'x',
    ];
    g.count('clients');
    yield csvLine(row);
    if (g.chance(0.005) || g.forced(i, 10)) {
      g.count('clients');
      yield csvLine(row);
    }
  }
}
