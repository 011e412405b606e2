import { ENTITY_KEYS, type EntityCounts, type EntityKey } from '../core/entities.js';
import { followUpChecklist } from './checklist.js';
import type { RunReport } from './run-report.js';

/**
 * `report.html`: one self-contained page (no fetches, no external scripts or styles) that a
 * clinic manager reads: what moved and what did not, a bar per entity, the problems with filters,
 * what was not transferable, and what to do next.
 */
const LABELS: Record<EntityKey, string> = {
  patients: 'Patients',
  contacts: 'Contacts',
  appointmentTypes: 'Appointment types',
  appointments: 'Appointments',
  clinicalNotes: 'Clinical notes',
  letters: 'Letters',
  fileUploads: 'File uploads',
};

/** The segments of an entity's bar, in the order they are drawn; `moved` is named by the mode. */
const SEGMENTS = [
  { key: 'moved', label: 'Created', colour: '#2e7d32' },
  { key: 'alreadyPresent', label: 'Already present', colour: '#1565c0' },
  { key: 'skipped', label: 'Skipped', colour: '#9e9e9e' },
  { key: 'invalid', label: 'Invalid', colour: '#ef6c00' },
  { key: 'failed', label: 'Failed', colour: '#c62828' },
] as const;

const PAGE_PROBLEMS = 5000;

function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

function segmentValue(c: EntityCounts, key: (typeof SEGMENTS)[number]['key']): number {
  return key === 'moved' ? c.created + c.planned : c[key];
}

const isLive = (report: RunReport) => report.mode === 'live';

/** What the first segment and column are called: a dry run plans, a live run creates. */
const movedLabel = (report: RunReport) => (isLive(report) ? 'Created in Cliniko' : 'Ready to create');
const movedField = (report: RunReport) => (isLive(report) ? 'created' : 'planned');

/**
 * A number on the page, tagged with where it comes from in report.json (`data-figure`: dotted
 * paths, `*` for every key or item, `#` for a list's length, `+` to add), so a test can check
 * every figure against the file.
 */
function fig(value: number, source: string, text = value.toLocaleString('en-US')): string {
  return `<span class="figure" data-figure="${esc(source)}">${text}</span>`;
}

/** `Pacific/Auckland` → `Auckland time`; UTC stays UTC. */
function zoneWords(zone: string): string {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 'UTC';
  return `${(zone.split('/').pop() ?? zone).replace(/_/g, ' ')} time`;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${zone}|${JSON.stringify(options)}`;
  let f = formats.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: zone });
    } catch {
      f = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: 'UTC' });
    }
    formats.set(key, f);
  }
  return f;
}

/** `Monday 23 November 2026, 2:00 pm` in `zone` (an instant), or '' when it is not one. */
export function plainDateTime(iso: string, zone: string, weekday: 'long' | 'short' = 'long'): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const day = format(zone, {
    weekday,
    day: 'numeric',
    month: weekday === 'long' ? 'long' : 'short',
    year: 'numeric',
  }).format(at);
  const time = format(zone, { hour: 'numeric', minute: '2-digit', hour12: true }).format(at);
  return `${day.replace(',', '')}, ${time.replace(/\s?([ap])m$/i, ' $1m').toLowerCase()}`;
}

/** A local wall-clock `yyyy-mm-ddTHH:mm` (no zone) in the same words, read as it is written. */
function plainLocal(local: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(local);
  if (!m) return local;
  return m[2] === undefined
    ? plainDate(m[1] ?? '')
    : plainDateTime(`${m[1]}T${m[2]}:${m[3]}:00Z`, 'UTC', 'short');
}

/** `2024-05-13` → `Mon 13 May 2024`. */
function plainDate(day: string, withYear = true): string {
  const at = new Date(`${day.slice(0, 10)}T12:00:00Z`);
  if (Number.isNaN(at.getTime())) return day;
  return format('UTC', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    ...(withYear ? { year: 'numeric' } : {}),
  })
    .format(at)
    .replace(',', '');
}

/** How long, in words: `5 minutes`, `1 hour 12 minutes`, `40 seconds`. */
function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} second${Math.round(seconds) === 1 ? '' : 's'}`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} minutes`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h} hour${h === 1 ? '' : 's'}${m ? ` ${m} minute${m === 1 ? '' : 's'}` : ''}`;
}

export interface Verdict {
  /** `good`: nothing to decide; `attention`: finished, with rows to decide on; `bad`: not finished or cannot go live. */
  readonly tone: 'good' | 'attention' | 'bad';
  readonly text: string;
}

/**
 * The run's outcome in one line, matching its problems: a run that finished with invalid or
 * failed rows says how many need a decision, never a bare "succeeded" (CONTRACT.md §3 status).
 */
export function verdict(report: RunReport): Verdict {
  const decide = ENTITY_KEYS.reduce((n, k) => n + report.entities[k].invalid + report.entities[k].failed, 0);
  const rows = (n: number) => `${n.toLocaleString('en-US')} row${n === 1 ? '' : 's'}`;
  const status = report.status as string;
  if (status === 'failed')
    return { tone: 'bad', text: 'stopped before the end: see the problems for where and why' };
  if (status === 'blocked')
    return {
      tone: 'bad',
      text: 'blocked: this dry run cannot go live until the problems marked error are fixed',
    };
  if (status === 'interrupted') return { tone: 'bad', text: 'interrupted: the same command resumes it' };
  if (decide)
    return {
      tone: 'attention',
      text: `finished: ${rows(decide)} need${decide === 1 ? 's' : ''} a decision${isLive(report) ? '' : ' before approval'}`,
    };
  if (report.summary.warnings)
    return {
      tone: 'good',
      text: `finished: every row accounted for, ${report.summary.warnings.toLocaleString('en-US')} warning${report.summary.warnings === 1 ? '' : 's'} to read`,
    };
  return { tone: 'good', text: isLive(report) ? 'finished: everything moved' : 'finished: ready to approve' };
}

/** One horizontal stacked bar per entity, drawn as SVG (no script needed to see it). */
function chart(report: RunReport): string {
  const label = (seg: (typeof SEGMENTS)[number]) => (seg.key === 'moved' ? movedLabel(report) : seg.label);
  const rowHeight = 34;
  const labelWidth = 150;
  const barWidth = 560;
  const height = ENTITY_KEYS.length * rowHeight + 10;
  const bars = ENTITY_KEYS.map((k, i) => {
    const c = report.entities[k];
    const total = SEGMENTS.reduce((s, seg) => s + segmentValue(c, seg.key), 0);
    const y = 5 + i * rowHeight;
    let x = labelWidth;
    const rects = SEGMENTS.map((seg) => {
      const value = segmentValue(c, seg.key);
      if (!value || !total) return '';
      const w = (value / total) * barWidth;
      const rect = `<rect class="bar" data-entity="${k}" data-segment="${seg.key}" data-value="${value}" x="${x.toFixed(1)}" y="${y}" width="${Math.max(w, 1).toFixed(1)}" height="22" fill="${seg.colour}"><title>${esc(LABELS[k])}: ${esc(label(seg))} ${value}</title></rect>`;
      x += w;
      return rect;
    }).join('');
    return `<text x="0" y="${y + 16}" class="label">${esc(LABELS[k])}</text>${rects || `<text x="${labelWidth}" y="${y + 16}" class="none">no rows</text>`}<text x="${labelWidth + barWidth + 8}" y="${y + 16}" class="total" data-figure="entities.${k}.source">${total}</text>`;
  }).join('');
  const legend = SEGMENTS.map(
    (s) => `<span class="key"><i style="background:${s.colour}"></i>${esc(label(s))}</span>`,
  ).join('');
  return `<svg id="chart" role="img" aria-label="Outcome of the rows of each entity" width="${labelWidth + barWidth + 60}" height="${height}" viewBox="0 0 ${labelWidth + barWidth + 60} ${height}">${bars}</svg><p class="legend">${legend}</p>`;
}

/** The counts table: a dry run shows what it would create, a live run what it created (CONTRACT.md §3). */
function countsTable(report: RunReport): string {
  const cols: readonly [keyof EntityCounts, string][] = [
    ['source', 'Rows in the export'],
    [movedField(report), isLive(report) ? 'Created' : 'To create'],
    ['alreadyPresent', 'Already in Cliniko'],
    ['updated', 'of which updated'],
    ['skipped', 'Skipped by rule'],
    ['invalid', 'Invalid'],
    ['failed', 'Failed'],
    ['missingFromExport', 'No longer in the export'],
  ];
  const rows = ENTITY_KEYS.map(
    (k) =>
      `<tr><th scope="row">${esc(LABELS[k])}</th>${cols.map(([c]) => `<td>${fig(report.entities[k][c], `entities.${k}.${c}`)}</td>`).join('')}</tr>`,
  ).join('');
  return `<table class="counts"><thead><tr><th>Entity</th>${cols.map(([, h]) => `<th>${h}</th>`).join('')}</tr></thead><tbody>${rows}</tbody></table>`;
}

function problemsSection(report: RunReport): string {
  const shown = report.problems.slice(0, PAGE_PROBLEMS);
  const entities = [...new Set(report.problems.map((p) => p.entity))].sort();
  const rows = shown
    .map(
      (p) =>
        `<tr class="problem ${esc(p.severity)}" data-entity="${esc(p.entity)}" data-severity="${esc(p.severity)}"><td>${esc(p.severity)}</td><td>${esc(p.entity)}</td><td>${esc(p.sourceId)}</td><td>${esc(p.file)}</td><td>${p.row || ''}</td><td>${esc(p.field)}</td><td><code>${esc(p.code)}</code></td><td>${esc(p.message)}</td></tr>`,
    )
    .join('');
  const options = entities.map((e) => `<option value="${esc(e)}">${esc(e)}</option>`).join('');
  return `<h2 id="problems">Problems (${fig(report.problems.length, 'problems.#')})</h2>
<form class="filters" onsubmit="return false">
<label>Entity <select id="filter-entity"><option value="">all</option>${options}</select></label>
<label>Severity <select id="filter-severity"><option value="">all</option><option value="error">error</option><option value="warning">warning</option><option value="info">info</option></select></label>
<label>Search <input id="filter-text" type="search" placeholder="code, field, message"></label>
<span id="shown" aria-live="polite"></span>
</form>
<table class="problems"><thead><tr><th>Severity</th><th>Entity</th><th>Source id</th><th>File</th><th>Row</th><th>Field</th><th>Code</th><th>Message</th></tr></thead><tbody>${rows || '<tr><td colspan="8">No problems.</td></tr>'}</tbody></table>
${report.problems.length > PAGE_PROBLEMS ? `<p>The first ${PAGE_PROBLEMS.toLocaleString('en-US')} problems are shown; problems.csv lists them all.</p>` : ''}`;
}

const table = (head: readonly string[], rows: readonly (readonly unknown[])[], id?: string) =>
  `<table${id ? ` id="${id}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${
    rows.length
      ? rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')
      : `<tr><td colspan="${head.length}">none</td></tr>`
  }</tbody></table>`;

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

/** What a clinic checks before sign-off (anchors.md §5.1), laid out for checking. */
function aidsSection(report: RunReport): string {
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
        `<details><summary>Client ${esc(c.sourceId)} (${esc(c.file)} row ${c.row}): ${esc(clientOutcome(report, c.sourceId, c.outcome))}</summary>${table(
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
      x.clientSourceId,
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
    n.clientSourceId,
    n.notes.length,
    n.notes.map((x) => plainDate(x.date)).join(', '),
    n.inDateOrder ? 'yes' : 'no (put in order)',
  ]),
)}
<h3>Attachments</h3>
<p id="attachment-totals">In the whole export: ${fig(a.attachmentTotals.letters, 'approvalAids.attachmentTotals.letters')} letter files and ${fig(a.attachmentTotals.uploads, 'approvalAids.attachmentTotals.uploads')} uploaded files, ${fig(a.attachmentTotals.bytes, 'approvalAids.attachmentTotals.bytes', (a.attachmentTotals.bytes / 1024 / 1024).toFixed(1))} MB in all. The sampled clients below have ${fig(files.letters, 'approvalAids.attachmentsByClient.*.letters')} letters and ${fig(files.uploads, 'approvalAids.attachmentsByClient.*.uploads')} uploads between them.</p>
${table(
  ['Sampled client', 'Letters', 'Uploads', 'Bytes'],
  a.attachmentsByClient.map((x) => [x.clientSourceId, x.letters, x.uploads, x.bytes.toLocaleString('en-US')]),
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

const STYLE = `body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#222}
h1{margin-bottom:.2rem}.meta{color:#555;margin-top:0}.cards{display:flex;flex-wrap:wrap;gap:.8rem;margin:1rem 0}
.card{border:1px solid #ddd;border-radius:6px;padding:.6rem 1rem;min-width:8rem}.card b{display:block;font-size:1.5rem}
.verdict{font-size:1.15rem;font-weight:600;padding:.5rem .8rem;border-radius:6px;display:inline-block;margin:.4rem 0}
.verdict-good{background:#e8f5e9;color:#1b5e20}.verdict-attention{background:#fff3e0;color:#8a4b00}.verdict-bad{background:#ffebee;color:#b71c1c}
table{border-collapse:collapse;margin:1rem 0;font-size:.92rem}td,th{border:1px solid #ddd;padding:.3rem .5rem;vertical-align:top}
.counts td{text-align:right}.problems td:nth-child(5){text-align:right}thead th{background:#f4f4f4;text-align:left}
.error td:first-child{color:#c62828;font-weight:600}.warning td:first-child{color:#ef6c00}.info td:first-child{color:#555}
#chart .label,#chart .total,#chart .none{font-size:13px;fill:#333}.legend .key{margin-right:1rem;white-space:nowrap}
.legend i{display:inline-block;width:.9rem;height:.9rem;margin-right:.3rem;vertical-align:-2px}
.filters{display:flex;gap:1rem;flex-wrap:wrap;align-items:center}.checklist li{margin:.4rem 0}
.sign-off{display:none}
@media print{@page{margin:14mm}body{max-width:none;margin:0;font-size:10.5pt}.filters,#shown{display:none}
a{color:inherit;text-decoration:none}h2{break-after:avoid}tr,.card,details,svg{break-inside:avoid}
.legend i,.verdict,thead th{-webkit-print-color-adjust:exact;print-color-adjust:exact}
.sign-off{display:block;margin-top:2rem;break-inside:avoid}.sign-off p{margin:1.6rem 0 0;border-bottom:1px solid #000;width:24rem;padding-bottom:.2rem}}`;

/** Filters the problem rows in place; no data leaves the page. Printing opens every client's details. */
const SCRIPT = `(function(){var e=document.getElementById('filter-entity'),s=document.getElementById('filter-severity'),t=document.getElementById('filter-text'),out=document.getElementById('shown');
var rows=Array.prototype.slice.call(document.querySelectorAll('tr.problem'));
function apply(){var ev=e.value,sv=s.value,tv=t.value.toLowerCase(),n=0;rows.forEach(function(r){var ok=(!ev||r.dataset.entity===ev)&&(!sv||r.dataset.severity===sv)&&(!tv||r.textContent.toLowerCase().indexOf(tv)>=0);r.hidden=!ok;if(ok)n++;});out.textContent='Showing '+n+' of '+rows.length;}
e.addEventListener('change',apply);s.addEventListener('change',apply);t.addEventListener('input',apply);apply();
window.addEventListener('beforeprint',function(){Array.prototype.forEach.call(document.querySelectorAll('details'),function(d){d.open=true;});});})();`;

/** What each `markArrivals` setting costs, so the clinic can choose before going live. */
function arrivalsSection(report: RunReport): string {
  const a = report.arrivals;
  if (!a) return '';
  const rows = (['none', 'recent', 'all'] as const)
    .map((k) => {
      const c = a.choices[k];
      return `<tr${k === a.setting ? ' class="chosen"' : ''}><td><code>${k}</code>${k === a.setting ? ' (chosen)' : ''}</td><td class="n">${c.appointments.toLocaleString('en-US')}</td><td class="n">${c.requests.toLocaleString('en-US')}</td><td class="n">${c.minutes.toLocaleString('en-US')} min</td></tr>`;
    })
    .join('');
  return `<h2 id="arrivals">Marking attended appointments as arrived</h2>
<p><code>markArrivals</code> in migration.json: <code>recent</code> marks attended appointments from ${esc(a.recentSince)} on (90 days before the export) and every later one. Each costs ${2} requests; times at ${a.keys} key${a.keys === 1 ? '' : 's'}. Did-not-arrive is always kept.</p>
<table><thead><tr><th>setting</th><th>appointments</th><th>requests</th><th>time</th></tr></thead><tbody>${rows}</tbody></table>`;
}

export function reportHtml(report: RunReport): string {
  const e = report.entities;
  const sum = (f: (c: EntityCounts) => number) => ENTITY_KEYS.reduce((s, k) => s + f(e[k]), 0);
  const live = isLive(report);
  const moved = movedField(report);
  const cards: [string, number, string][] = [
    ['Rows read', report.summary.rowsRead, 'summary.rowsRead'],
    [movedLabel(report), sum((c) => c[moved]), `entities.*.${moved}`],
    ['Already in Cliniko', sum((c) => c.alreadyPresent), 'entities.*.alreadyPresent'],
    ['Updated', sum((c) => c.updated), 'entities.*.updated'],
    ['Skipped by rule', sum((c) => c.skipped), 'entities.*.skipped'],
    ['Invalid', sum((c) => c.invalid), 'entities.*.invalid'],
    ['Failed', sum((c) => c.failed), 'entities.*.failed'],
    ['Not transferable', Object.values(report.excluded).reduce((a, b) => a + b, 0), 'excluded.*'],
  ];
  const cardsHtml = cards
    .map(([label, value, source]) => `<div class="card"><b>${fig(value, source)}</b>${esc(label)}</div>`)
    .join('');
  const excluded = Object.entries(report.excluded);
  const excludedTable = excluded.length
    ? `<table><thead><tr><th>Table</th><th>Rows</th></tr></thead><tbody>${excluded.map(([k, n]) => `<tr><td>${esc(k)}</td><td>${fig(n, `excluded.${k}`)}</td></tr>`).join('')}</tbody></table>`
    : '<p>None: the export held no financial tables.</p>';
  const checklist = followUpChecklist(report)
    .map((c) => `<li><b>${esc(c.item)}.</b> ${esc(c.detail)}</li>`)
    .join('');
  const title = `${live ? 'Migration' : 'Dry run'} report`;
  const zone = report.timeZone ?? 'UTC';
  const started = plainDateTime(report.startedAt, zone);
  const finished = plainDateTime(report.finishedAt, zone);
  const sameDay = started.slice(0, started.lastIndexOf(',')) === finished.slice(0, finished.lastIndexOf(','));
  const when = `${started} to ${sameDay ? finished.slice(finished.lastIndexOf(',') + 2) : finished} ${zoneWords(zone)} (${duration(report.summary.seconds)})`;
  const v = verdict(report);
  const decide = sum((c) => c.invalid + c.failed);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(title)} ${esc(report.runId)}</title><style>${STYLE}</style></head>
<body>
<h1>${esc(title)}</h1>
<p id="verdict" class="verdict verdict-${v.tone}" data-status="${esc(report.status)}">${decide && v.tone === 'attention' ? esc(v.text).replace(decide.toLocaleString('en-US'), fig(decide, 'entities.*.invalid+entities.*.failed')) : esc(v.text)}</p>
<p class="meta">${live ? 'Live run: records were written to Cliniko' : 'Dry run: nothing was written to Cliniko'} · run <code>${esc(report.runId)}</code><br>
<span id="when">${esc(when)}</span><br>
Export <code>${esc(report.source.file)}</code> (sha256 <code>${esc(report.source.sha256.slice(0, 16))}…</code>) · ${fig(report.cliniko.requests, 'cliniko.requests')} Cliniko requests with ${fig(report.cliniko.keys, 'cliniko.keys')} key${report.cliniko.keys === 1 ? '' : 's'}${report.cliniko.account ? ` · Cliniko account ${esc(report.cliniko.account.name ?? report.cliniko.account.id ?? '')} (${esc(report.cliniko.account.shard)}: ${esc(report.cliniko.account.businesses.join(', '))})` : ''}</p>
<div class="cards">${cardsHtml}</div>
<p id="problem-summary">${fig(report.summary.errors, 'summary.errors')} errors, ${fig(report.summary.warnings, 'summary.warnings')} warnings, ${fig(report.summary.infos, 'summary.infos')} notes: see <a href="#problems">the problems</a>.</p>
<h2>By entity</h2>
${chart(report)}
${countsTable(report)}
<h2>Next steps</h2>
<ol class="checklist">${checklist}</ol>
${aidsSection(report)}
${arrivalsSection(report)}
<h2>Not transferable (counted, not migrated)</h2>
${excludedTable}
${problemsSection(report)}
<section class="sign-off"><h2>Sign-off</h2><p>Checked and approved by:</p><p>Role:</p><p>Signature and date:</p></section>
<script>${SCRIPT}</script>
</body></html>`;
}
