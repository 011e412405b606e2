import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { seededRandom } from '../../src/core/random.js';
import type { SandboxSeed } from '../sandbox/seed.js';

/**
 * Writes a synthetic Gensolve export (FORMAT.md) of any size, deterministic for a seed, with the
 * messiness real exports have: a Windows-1252 table, a UTF-8 BOM, renamed and reordered headers,
 * an unknown column, multi-line quoted notes, duplicate keys, dangling references, invalid dates
 * and e-mails, appointments in DST gaps and overlaps, missing and escaping document paths, and
 * financial tables. Rows are generated as they are zipped: memory stays flat at any size.
 */
export interface GenerateOptions {
  readonly patients: number;
  readonly years?: number;
  readonly seed?: number;
  /** Appointments per patient on average (default 15). */
  readonly appointmentsPerPatient?: number;
  /** Set false for a clean export (tests of exact counts use the messy default). */
  readonly messy?: boolean;
  /** Letters and uploads per 100 patients (default 10 each). */
  readonly documentsPer100?: number;
}

export interface GenerateSummary {
  readonly rows: Record<string, number>;
}

const FIRST = [
  'Aroha',
  'James',
  'Mere',
  'Olivia',
  'Tāne',
  'Zoë',
  'Liam',
  'Charlotte',
  'Wiremu',
  'Amelia',
  'Noah',
  'Isla',
  'José',
  'Mia',
  'Hemi',
  'Sophie',
  'Ngaio',
  'Lucas',
  'Anika',
  'Renée',
];
const LAST = [
  'Smith',
  'Ngata',
  'Williams',
  'Brown',
  'Te Whata',
  'Wilson',
  'Taylor',
  "O'Connor",
  'Anderson',
  'Thompson',
  'Walker',
  'Müller',
  'Parata',
  'Chen',
  'Patel',
  'Kim',
  'Nguyen',
  'Campbell',
  'Stewart',
  'Horomona',
];
const STREETS = ['Queen St', 'Karangahape Rd', 'Dominion Rd', 'Ponsonby Rd', 'Lambton Quay', 'George St'];
const SUBURBS = ['Ponsonby', 'Grey Lynn', 'Mt Eden', 'Te Aro', 'Newtown', 'Surry Hills'];
const ALERTS = ['Penicillin allergy', 'Latex allergy', 'Pacemaker', 'Diabetic', 'Anticoagulants', 'Asthma'];

const LOCATIONS = [
  { id: 'L1', name: 'Auckland Central', city: 'Auckland', zone: 'Pacific/Auckland', country: 'New Zealand' },
  { id: 'L2', name: 'Wellington', city: 'Wellington', zone: 'Pacific/Auckland', country: 'New Zealand' },
  { id: 'L3', name: 'Sydney CBD', city: 'Sydney', zone: 'Australia/Sydney', country: 'Australia' },
];
const PRACTITIONERS = [
  ['P1', 'Hana', 'Ruru', 'N'],
  ['P2', 'Michael', 'Grant', 'N'],
  ['P3', 'Priya', 'Sharma', 'N'],
  ['P4', 'Tom', 'Baker', 'N'],
  ['P5', 'Ella', 'Fitzgerald', 'N'],
  ['P6', 'Robert', 'Lee', 'Y'],
] as const;
const TYPES = [
  ['T1', 'Initial Assessment', '60', 'Physiotherapy', '#1F77B4'],
  ['T2', 'Follow-up', '30', 'Physiotherapy', '#2CA02C'],
  ['T3', 'Massage 45', '45', 'Massage', '#FF7F0E'],
  ['T4', 'ACC Review', '30', 'ACC', '#D62728'],
  ['T5', 'Pilates Class', '55', 'Classes', 'purple'],
] as const;

/** DST transitions the generator places appointments in (local date, 02:30 is in the gap or overlap). */
const DST_DAYS = [
  { zone: 'L1', date: [2024, 9, 29], kind: 'gap' },
  { zone: 'L1', date: [2024, 4, 7], kind: 'overlap' },
  { zone: 'L3', date: [2024, 10, 6], kind: 'gap' },
  { zone: 'L3', date: [2024, 4, 7], kind: 'overlap' },
] as const;

function csvField(v: string | number | undefined): string {
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvLine(values: readonly (string | number | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

const pad = (n: number) => String(n).padStart(2, '0');
const dmy = (d: Date) => `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;

/** A Windows-1252 encoder for the characters the generator uses. */
function windows1252(text: string): Buffer {
  const special: Record<string, number> = {
    '€': 0x80,
    '‘': 0x91,
    '’': 0x92,
    '“': 0x93,
    '”': 0x94,
    '–': 0x96,
    '—': 0x97,
  };
  const bytes = Buffer.alloc(text.length);
  let i = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 63;
    bytes[i++] = special[ch] ?? (code < 256 ? code : 63);
  }
  return bytes.subarray(0, i);
}

export async function generateExport(outPath: string, options: GenerateOptions): Promise<GenerateSummary> {
  const random = seededRandom(options.seed ?? 1);
  const years = options.years ?? 3;
  const messy = options.messy ?? true;
  const perPatient = options.appointmentsPerPatient ?? 15;
  const docsPer100 = options.documentsPer100 ?? 10;
  const n = options.patients;
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;
  const chance = (p: number) => messy && random() < p;
  /** Each kind of mess also appears at a fixed row, so even a small export has every kind. */
  const forced = (i: number, at: number) => messy && i === Math.min(at, n);
  const rows: Record<string, number> = {};
  const count = (table: string) => {
    rows[table] = (rows[table] ?? 0) + 1;
  };
  const end = Date.UTC(2026, 9, 31);
  const span = years * 365 * 86_400_000;

  const zip = new yazl.ZipFile();
  const add = (
    name: string,
    lines: () => Generator<string>,
    encoding: 'utf8' | 'utf8-bom' | 'windows-1252' = 'utf8',
  ) => {
    const encode = (text: string) =>
      encoding === 'windows-1252' ? windows1252(text) : Buffer.from(text, 'utf8');
    const stream = Readable.from(
      (function* () {
        if (encoding === 'utf8-bom') yield Buffer.from([0xef, 0xbb, 0xbf]);
        // lines are gathered into 64 KiB chunks: one write per line would cost more than the data
        let pending = '';
        for (const line of lines()) {
          pending += line;
          if (pending.length >= 65_536) {
            yield encode(pending);
            pending = '';
          }
        }
        if (pending) yield encode(pending);
      })(),
    );
    zip.addReadStream(stream, name, { mtime: new Date(end) });
  };

  zip.addBuffer(
    Buffer.from(
      JSON.stringify(
        {
          system: 'Gensolve Practice Manager',
          exportedAt: '2026-11-01T09:00:00+13:00',
          timeZone: 'Pacific/Auckland',
        },
        null,
        2,
      ),
    ),
    'GensolveExport/manifest.json',
    { mtime: new Date(end) },
  );

  add('GensolveExport/Locations.csv', function* () {
    yield csvLine(['LocationId', 'Name', 'Address1', 'City', 'Country', 'TimeZone', 'Inactive']);
    for (const l of LOCATIONS) {
      count('locations');
      yield csvLine([l.id, l.name, '1 Main St', l.city, l.country, l.zone, 'N']);
    }
  });
  add('GensolveExport/Practitioners.csv', function* () {
    yield csvLine(['PractitionerId', 'FirstName', 'LastName', 'Title', 'Email', 'Inactive']);
    for (const [id, f, l, inactive] of PRACTITIONERS) {
      count('practitioners');
      yield csvLine([id, f, l, 'Dr', `${f.toLowerCase()}@clinic.example.nz`, inactive]);
    }
  });
  add('GensolveExport/AppointmentTypes.csv', function* () {
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
      count('appointmentTypes');
      yield csvLine([id, name, duration, category, colour, `${name} session`, 'N']);
    }
  });
  const employers = Math.max(3, Math.round(n / 50));
  add('GensolveExport/Employers.csv', function* () {
    yield csvLine([
      'EmployerId',
      'CompanyName',
      'ContactFirstName',
      'ContactLastName',
      'Email',
      'Phone',
      'City',
    ]);
    for (let i = 1; i <= employers; i++) {
      count('employers');
      yield csvLine([
        `E${i}`,
        `${pick(LAST)} Holdings Ltd`,
        pick(FIRST),
        pick(LAST),
        `accounts${i}@employer.example.nz`,
        `09 555 ${String(1000 + i).slice(-4)}`,
        'Auckland',
      ]);
    }
  });
  const referrers = Math.max(3, Math.round(n / 40));
  // Older tables come in Windows-1252: curly quotes and accents must survive.
  add(
    'GensolveExport/Referrers.csv',
    function* () {
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
      for (let i = 1; i <= referrers; i++) {
        count('referrers');
        const type = pick(['GP', 'GP', 'Specialist', 'Physiotherapist', 'Other']);
        yield csvLine([
          `R${i}`,
          'Dr',
          i % 7 === 0 ? 'Renée' : pick(FIRST.filter((f) => !/[āĀ]/.test(f))),
          i % 5 === 0 ? 'O’Brien' : pick(LAST.filter((l) => l !== 'Müller')),
          `${pick(SUBURBS)} Medical – Centre`,
          type,
          `PN${1000 + i}`,
          `dr${i}@medical.example.nz`,
          `09 444 ${String(2000 + i).slice(-4)}`,
          `09 444 ${String(3000 + i).slice(-4)}`,
        ]);
      }
    },
    'windows-1252',
  );
  add('GensolveExport/Debtors.csv', function* () {
    yield csvLine(['DebtorId', 'Name', 'ContactName', 'Email', 'AccountNumber']);
    const debtors = ['ACC', 'Southern Cross Health', 'nib', 'AIA'];
    for (const [i, name] of debtors.entries()) {
      count('debtors');
      yield csvLine([`D${i + 1}`, name, 'Claims Team', `claims${i + 1}@insurer.example.nz`, `AC${5000 + i}`]);
    }
  });

  // Clients: UTF-8 with a BOM, macrons, an unknown column, messy values, duplicate rows.
  add(
    'GensolveExport/Clients.csv',
    function* () {
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
      for (let i = 1; i <= n; i++) {
        const first = pick(FIRST);
        const last = pick(LAST);
        const born = new Date(
          Date.UTC(
            1940 + Math.floor(random() * 70),
            Math.floor(random() * 12),
            1 + Math.floor(random() * 28),
          ),
        );
        let dob = dmy(born);
        if (chance(0.003) || forced(i, 6)) dob = '31/02/1980';
        let email = `${first}.${last}${i}@example.co.nz`.toLowerCase().replace(/[^a-z0-9.@]/g, '');
        if (chance(0.01) || forced(i, 5)) email = `${first.toLowerCase()} at example`;
        const employer =
          random() < 0.3
            ? chance(0.05)
              ? `E${employers + 99}`
              : `E${1 + Math.floor(random() * employers)}`
            : '';
        const referrer =
          random() < 0.4
            ? chance(0.05)
              ? `R${referrers + 99}`
              : `R${1 + Math.floor(random() * referrers)}`
            : '';
        const alerts =
          random() < 0.1 ? [pick(ALERTS), ...(random() < 0.3 ? [pick(ALERTS)] : [])].join('; ') : '';
        const notes = random() < 0.05 ? `Prefers morning appointments.\nParks at the back, "blue car".` : '';
        const row = [
          `C${i}`,
          first,
          chance(0.001) || forced(i, 9) ? '' : last,
          pick(['Mr', 'Ms', 'Mrs', 'Dr', '']),
          random() < 0.1 ? first.slice(0, 3) : '',
          dob,
          pick(['M', 'F', 'F', 'M', 'X', 'U', 'Female']),
          email,
          chance(0.01) || forced(i, 7) ? 'N/A' : `021 ${String(100000 + Math.floor(random() * 899999))}`,
          random() < 0.3 ? `09 ${String(3000000 + Math.floor(random() * 999999))}` : '',
          `${1 + Math.floor(random() * 300)} ${pick(STREETS)}`,
          pick(SUBURBS),
          'Auckland',
          String(1000 + Math.floor(random() * 1000)),
          'New Zealand',
          pick(['Teacher', 'Builder', 'Nurse', 'Retired', 'Student', '']),
          employer,
          referrer,
          random() < 0.5 ? `ABC${String(1000 + (i % 9000)).padStart(4, '0')}` : '',
          random() < 0.5 ? `${pick(FIRST)} ${pick(LAST)}` : '',
          random() < 0.5 ? '027 555 0101' : '',
          pick(['SMS', 'Email', 'Both', 'None', '']),
          pick(['Y', 'N', '']),
          pick(['Y', 'N', '']),
          alerts,
          notes,
          random() < 0.05 ? 'Y' : 'N',
          dmy(new Date(end - Math.floor(random() * span))),
          'x',
        ];
        count('clients');
        yield csvLine(row);
        if (chance(0.005) || forced(i, 10)) {
          count('clients');
          yield csvLine(row);
        }
      }
    },
    'utf8-bom',
  );

  // Appointments: renamed and reordered headers; DST edges; dangling clients; cancellations.
  add('GensolveExport/Appointments.csv', function* () {
    yield csvLine([
      'Appointment ID',
      'start date',
      'Start_Time',
      'client id',
      'PractitionerId',
      'LocationId',
      'AppointmentTypeId',
      'DurationMinutes',
      'Status',
      'CancellationReason',
      'CancelledDate',
      'Notes',
    ]);
    const total = Math.round(n * perPatient);
    for (let i = 1; i <= total; i++) {
      const client = chance(0.002) || forced(i, 3) ? `C${n + 1000 + i}` : `C${1 + Math.floor(random() * n)}`;
      const [pid] = PRACTITIONERS[Math.floor(random() * PRACTITIONERS.length)] ?? PRACTITIONERS[0];
      let loc: string = LOCATIONS[Math.floor(random() * LOCATIONS.length)]?.id ?? 'L1';
      const [tid, , duration] = TYPES[Math.floor(random() * TYPES.length)] ?? TYPES[0];
      let day = new Date(end - Math.floor(random() * span));
      let time = `${pad(7 + Math.floor(random() * 11))}:${pick(['00', '15', '30', '45'])}`;
      if (messy && i % 5000 === 17) {
        const edge = DST_DAYS[Math.floor(i / 5000) % DST_DAYS.length] ?? DST_DAYS[0];
        loc = edge.zone;
        day = new Date(Date.UTC(edge.date[0], edge.date[1] - 1, edge.date[2]));
        time = '02:30';
      }
      const statusRoll = random();
      const status =
        day.getTime() > Date.UTC(2026, 9, 1)
          ? 'Booked'
          : statusRoll < 0.08
            ? 'Cancelled'
            : statusRoll < 0.12
              ? 'DNA'
              : statusRoll < 0.5
                ? 'Arrived'
                : 'Completed';
      const cancelled = status === 'Cancelled';
      count('appointments');
      yield csvLine([
        `A${i}`,
        chance(0.001) ? '13/13/2024' : dmy(day),
        random() < 0.2
          ? `${Number(time.slice(0, 2)) % 12 || 12}:${time.slice(3)} ${Number(time.slice(0, 2)) < 12 ? 'AM' : 'PM'}`
          : time,
        client,
        pid,
        chance(0.01) ? '' : loc,
        chance(0.01) ? 'T99' : tid,
        duration,
        status,
        cancelled
          ? pick(['Feeling better', 'Sick', 'Away on holiday', 'Work commitments', 'No reason given'])
          : '',
        cancelled ? dmy(new Date(day.getTime() - 86_400_000)) : '',
        random() < 0.1 ? 'Bring referral letter, "urgent"' : '',
      ]);
    }
  });

  const noteCount = Math.round(n * 2);
  add('GensolveExport/ClinicalNotes.csv', function* () {
    yield csvLine([
      'NoteId',
      'ClientId',
      'NoteDate',
      'PractitionerId',
      'AppointmentId',
      'NoteType',
      'AssessmentType',
      'Subjective',
      'Objective',
      'Assessment',
      'Plan',
      'Body',
    ]);
    for (let i = 1; i <= noteCount; i++) {
      const soap = random() < 0.7;
      count('clinicalNotes');
      yield csvLine([
        `N${i}`,
        `C${1 + Math.floor(random() * n)}`,
        dmy(new Date(end - Math.floor(random() * span))),
        PRACTITIONERS[Math.floor(random() * 5)]?.[0],
        '',
        pick(['Initial Assessment', 'Treatment', 'Discharge']),
        soap ? 'SOAP' : 'Standard',
        soap
          ? `Left knee pain for ${1 + Math.floor(random() * 8)} weeks, worse on stairs.\nNo night pain.`
          : '',
        soap ? 'Swelling +, ROM 0–110°, "crepitus" on flexion' : '',
        soap ? 'Patellofemoral pain, improving' : '',
        soap ? '1. Quads strengthening\n2. Review in 2 weeks' : '',
        soap
          ? ''
          : `Treatment notes: soft tissue release, taping.\nPatient advised: ice, rest; "no running" for 2 weeks. Tēnā koe.`,
      ]);
    }
  });

  const letters = Math.max(1, Math.round((n * docsPer100) / 100));
  const uploads = letters;
  add('GensolveExport/Letters.csv', function* () {
    yield csvLine([
      'LetterId',
      'ClientId',
      'LetterDate',
      'FilePath',
      'Subject',
      'RecipientName',
      'PractitionerId',
    ]);
    for (let i = 1; i <= letters; i++) {
      count('letters');
      const path =
        chance(0.02) || (messy && i === Math.min(2, letters))
          ? `Letters/missing-${i}.pdf`
          : chance(0.005) || (messy && i === Math.min(3, letters) && letters > 2)
            ? `..\\..\\etc\\passwd`
            : `Letters\\letter-${i}.pdf`;
      yield csvLine([
        `LT${i}`,
        `C${1 + ((i * 7) % n)}`,
        dmy(new Date(end - Math.floor(random() * span))),
        path,
        pick(['Letter to GP', 'ACC report', 'Discharge summary']),
        `Dr ${pick(LAST)}`,
        'P1',
      ]);
    }
  });
  add('GensolveExport/Uploads.csv', function* () {
    yield csvLine(['UploadId', 'ClientId', 'FilePath', 'UploadDate', 'Description', 'ContentType']);
    for (let i = 1; i <= uploads; i++) {
      count('uploads');
      yield csvLine([
        `U${i}`,
        `C${1 + ((i * 11) % n)}`,
        `Uploads/${uploadName(i)}`,
        dmy(new Date(end - Math.floor(random() * span))),
        pick(['X-ray', 'Referral scan', 'Consent form']),
        '',
      ]);
    }
  });
  for (let i = 1; i <= letters; i++) {
    zip.addBuffer(
      Buffer.from(`%PDF-1.4\n% letter ${i}\n${'Letter body. '.repeat(20)}\n%%EOF\n`),
      `GensolveExport/Letters/letter-${i}.pdf`,
      { mtime: new Date(end) },
    );
  }
  for (let i = 1; i <= uploads; i++) {
    zip.addBuffer(Buffer.from(`upload ${i} ${'x'.repeat(200)}`), `GensolveExport/Uploads/${uploadName(i)}`, {
      mtime: new Date(end),
    });
  }

  add('GensolveExport/Invoices.csv', function* () {
    yield csvLine(['InvoiceId', 'ClientId', 'InvoiceDate', 'Total']);
    for (let i = 1; i <= n; i++) {
      count('invoices');
      yield csvLine([
        `I${i}`,
        `C${i}`,
        dmy(new Date(end - Math.floor(random() * span))),
        (50 + Math.floor(random() * 100)).toFixed(2),
      ]);
    }
  });
  add('GensolveExport/Payments.csv', function* () {
    yield csvLine(['PaymentId', 'InvoiceId', 'Amount', 'Method']);
    for (let i = 1; i <= Math.round(n * 0.9); i++) {
      count('payments');
      yield csvLine([`PY${i}`, `I${i}`, '80.00', pick(['EFTPOS', 'Cash', 'Credit card'])]);
    }
  });

  zip.end();
  await pipeline(zip.outputStream, createWriteStream(outPath));
  return { rows };
}

/** Upload file names are known before the rows are generated, so they derive from the index. */
function uploadName(i: number): string {
  return `upload-${i}.${['jpg', 'pdf', 'png'][i % 3]}`;
}

/**
 * What a clinic would have set up in Cliniko before transferring a generated export: a business per
 * location (in its zone) and every practitioner, plus a user owning the given API key.
 */
export function sandboxSeedForGenerated(apiKey: string): SandboxSeed {
  return {
    users: [{ first_name: 'Migration', last_name: 'Operator', api_key: apiKey }],
    businesses: LOCATIONS.map((l) => ({ business_name: l.name, time_zone_identifier: l.zone })),
    practitioners: PRACTITIONERS.map(([, first, last]) => ({ first_name: first, last_name: last })),
  };
}
