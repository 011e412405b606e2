import { formatBytes } from '../core/byte-size.js';
import { esc, fig, isLive, plainDate, plainDateTime, plainLocal, table, zoneWords } from './page-text.js';
import type { RunReport } from './run-report.js';

/** Pairs of (exported column, Cliniko field) shown for each sampled client. */
const CLIENT_FIELDS: readonly [string, string, string][] = [
  ['Name', 'FirstName', 'first_name'],
  ['Surname', 'LastName', 'last_name'],
  ['Date of birth', 'DateOfBirth', 'date_of_birth'],
  ['E-mail', 'Email', 'email'],
  ['Mobile', 'MobilePhone', 'patient_phone_numbers'],
  ['Address', 'Address1', 'address_1'],
  ['City', 'City', 'city'],
];

function shown(value: unknown): string {
  if (value === undefined || value === null || value === '') return '—';
  if (Array.isArray(value))
    return value.map((v) => (typeof v === 'object' && v ? Object.values(v).join(' ') : String(v))).join('; ');
  return String(value);
}

/** A sampled client's outcome in the words of the mode: a live run's "planned" row was sent. */
function clientOutcome(report: RunReport, sourceId: string, outcome: string): string {
  if (outcome !== 'planned') return outcome === 'alreadyPresent' ? 'already in Cliniko' : outcome;
  if (!isLive(report)) return 'to be created';
  const failed = report.problems.some(
    (p) => p.entity === 'patients' && p.sourceId === sourceId && p.severity === 'error',
  );
  return failed ? 'failed' : 'created';
}

const named = (name: string | undefined, sourceId: string) => (name ? `${name} (${sourceId})` : sourceId);

/** What a clinic checks before sign-off (docs/REPORT.md, The approval aids), laid out for checking. */
export function aidsSection(report: RunReport): string {
  const a = report.approvalAids;
  if (!a) return '';
  const live = isLive(report);
  const week = a.busiestWeek;
  const weekPart = week
    ? `<p>Busiest week: ${esc(plainDate(week.weekStart, week.weekStart.slice(0, 4) !== week.weekEnd.slice(0, 4)))} to ${esc(plainDate(week.weekEnd))}, ${fig(week.appointments, 'approvalAids.busiestWeek.appointments')} appointments in the export${live ? ', read back from Cliniko beside them' : ''}. Compare them with the old system's calendar.</p>
${table(
  ['Practitioner', 'In the export', ...(live ? ['In Cliniko'] : [])],
  week.byPractitioner.map((p) => [named(p.name, p.sourceId), p.source, ...(live ? [p.cliniko ?? '—'] : [])]),
  'busy-week-practitioners',
)}
${table(
  ['Location', 'In the export', ...(live ? ['In Cliniko'] : [])],
  week.byLocation.map((l) => [
    l.sourceId === '(default business)' ? 'No location (the default business)' : named(l.name, l.sourceId),
    l.source,
    ...(live ? [l.cliniko ?? '—'] : []),
  ]),
  'busy-week-locations',
)}`
    : '<p>No appointments.</p>';
  const clients = a.clientSample
    .map(
      (c) =>
        `<details><summary>${c.clientName ? esc(named(c.clientName, c.sourceId)) : `Client ${esc(c.sourceId)}`} (${esc(c.file)} row ${c.row}): ${esc(clientOutcome(report, c.sourceId, c.outcome))}</summary>${table(
          ['Field', 'As exported', live ? 'As sent to Cliniko' : 'As it would be sent to Cliniko'],
          CLIENT_FIELDS.map(([label, col, field]) => [
            label,
            shown(c.asExported[col]),
            shown(c.asSent?.[field]),
          ]),
        )}</details>`,
    )
    .join('');
  const files = {
    letters: a.attachmentsByClient.reduce((n, x) => n + x.letters, 0),
    uploads: a.attachmentsByClient.reduce((n, x) => n + x.uploads, 0),
  };
  return `<h2 id="approval">Before you sign off</h2>
<p>Checks clinics do by hand, done for you: compare these with the old system.</p>
<h3>A busy week</h3>
${weekPart}
<h3>${fig(a.clientSample.length, 'approvalAids.clientSample.#')} client${a.clientSample.length === 1 ? '' : 's'}, field by field</h3>
<div id="client-sample">${clients || '<p>No clients.</p>'}</div>
<h3>Appointment times</h3>
<p>Each time as the old system shows it, and as the Cliniko business it went to shows it: the two should read the same.</p>
${table(
  [
    'Appointment',
    'Client',
    'Practitioner',
    'In the old system',
    'In Cliniko',
    'Stored by Cliniko (UTC)',
    'Status',
  ],
  a.appointmentSample.map((x) => {
    const zone = x.businessZone ?? x.timeZone;
    return [
      x.sourceId,
      named(x.clientName, x.clientSourceId),
      named(x.practitionerName, x.practitionerSourceId),
      `${plainLocal(x.local)} (${zoneWords(x.timeZone)})`,
      x.businessZone ? `${plainDateTime(x.utc, zone, 'short')} (${zoneWords(zone)})` : x.inBusinessZone,
      plainDateTime(x.utc, 'UTC', 'short'),
      x.status,
    ];
  }),
  'appointment-sample',
)}
${
  a.dstEdgeCases.length
    ? `<p>Daylight-saving edge cases (${fig(a.dstEdgeCases.length, 'approvalAids.dstEdgeCases.#')}):</p>${table(
        ['Appointment', 'Row', 'What happened'],
        a.dstEdgeCases.map((d) => [d.sourceId, d.row, d.message]),
      )}`
    : '<p>No appointment fell in a daylight-saving change.</p>'
}
<h3>Notes in date order</h3>
${table(
  ['Client', 'Notes', 'Dates (as they appear in the PDF)', 'Exported in date order'],
  a.notesByClient.map((n) => [
    named(n.clientName, n.clientSourceId),
    n.notes.length,
    n.notes.map((x) => plainDate(x.date)).join(', '),
    n.inDateOrder ? 'yes' : 'no (put in order)',
  ]),
)}
<h3>Attachments</h3>
<p id="attachment-totals">In the whole export: ${fig(a.attachmentTotals.letters, 'approvalAids.attachmentTotals.letters')} letter files and ${fig(a.attachmentTotals.uploads, 'approvalAids.attachmentTotals.uploads')} uploaded files, ${fig(a.attachmentTotals.bytes, 'approvalAids.attachmentTotals.bytes', formatBytes(a.attachmentTotals.bytes))} in all. The sampled clients below have ${fig(files.letters, 'approvalAids.attachmentsByClient.*.letters')} letters and ${fig(files.uploads, 'approvalAids.attachmentsByClient.*.uploads')} uploads between them.</p>
${table(
  ['Sampled client', 'Letters', 'Uploads', 'Size'],
  a.attachmentsByClient.map((x) => [
    named(x.clientName, x.clientSourceId),
    x.letters,
    x.uploads,
    formatBytes(x.bytes),
  ]),
)}
<h3>Dates whose day and month could be swapped</h3>
${
  a.ambiguousDateColumns.length
    ? table(
        ['File', 'Column', 'Why'],
        a.ambiguousDateColumns.map((d) => [d.file, d.field, d.message]),
        'ambiguous-dates',
      )
    : '<p>None: every date column has a day above 12.</p>'
}`;
}
