import {
  DISPLAY_NAMES,
  displayName,
  ENTITY_KEYS,
  type EntityCounts,
  type EntityKey,
  isSupportEntity,
  type SupportEntity,
} from '../core/entities.js';
import { sortProblems } from '../core/problem.js';
import { followUpChecklist } from './checklist.js';
import { aidsSection } from './page-aids.js';
import { SCRIPT, STYLE } from './page-assets.js';
import { duration, esc, fig, isLive, movedField, movedLabel, plainDateTime, zoneWords } from './page-text.js';
import { duration as runDuration, usd } from './run-projection.js';
import type { RunReport } from './run-report.js';

/**
 * `report.html`: one self-contained page (no fetches, no external scripts or styles) that a
 * clinic manager reads: what moved and what did not, a bar per entity, the problems with filters,
 * what was not transferable, and what to do next.
 */
const LABELS: Readonly<Record<EntityKey, string>> = DISPLAY_NAMES;

/** The segments of an entity's bar, in the order they are drawn; `moved` is named by the mode. */
const SEGMENTS = [
  { key: 'moved', label: 'Created', colour: '#2e7d32' },
  { key: 'alreadyPresent', label: 'Already present', colour: '#1565c0' },
  { key: 'skipped', label: 'Skipped', colour: '#9e9e9e' },
  { key: 'invalid', label: 'Invalid', colour: '#ef6c00' },
  { key: 'failed', label: 'Failed', colour: '#c62828' },
] as const;

const PAGE_PROBLEMS = 5000;

function segmentValue(c: EntityCounts, key: (typeof SEGMENTS)[number]['key']): number {
  return key === 'moved' ? c.created + c.planned : c[key];
}

export interface Verdict {
  /** `good`: nothing to decide; `attention`: finished, with rows to decide on; `bad`: not finished or cannot go live. */
  readonly tone: 'good' | 'attention' | 'bad';
  readonly text: string;
}

/**
 * The run's outcome in one line, matching its problems: a run that finished with invalid or
 * failed rows says how many need a decision, never a bare "succeeded" (docs/REPORT.md, `status`).
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

/** The counts table: a dry run shows what it would create, a live run what it created (docs/REPORT.md). */
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
  const shown = sortProblems(report.problems).slice(0, PAGE_PROBLEMS);
  const entities = [...new Set(report.problems.map((p) => p.entity))].sort();
  const rows = shown
    .map(
      (p) =>
        `<tr class="problem ${esc(p.severity)}" data-entity="${esc(p.entity)}" data-severity="${esc(p.severity)}"><td>${esc(p.severity)}</td><td>${esc(displayName(p.entity))}</td><td>${esc(p.sourceId)}</td><td>${esc(p.patient ?? '')}</td><td>${esc(p.file)}</td><td>${p.row || ''}</td><td>${esc(p.field)}</td><td><code>${esc(p.code)}</code></td><td>${esc(p.message)}</td></tr>`,
    )
    .join('');
  const options = entities.map((e) => `<option value="${esc(e)}">${esc(displayName(e))}</option>`).join('');
  return `<h2 id="problems">Problems (${fig(report.problems.length, 'problems.#')})</h2>
<form class="filters" onsubmit="return false">
<label>Entity <select id="filter-entity"><option value="">all</option>${options}</select></label>
<label>Severity <select id="filter-severity"><option value="">all</option><option value="error">error</option><option value="warning">warning</option><option value="info">info</option></select></label>
<label>Search <input id="filter-text" type="search" placeholder="code, field, message"></label>
<span id="shown" aria-live="polite"></span>
</form>
<table class="problems"><thead><tr><th>Severity</th><th>Entity</th><th>Source id</th><th>Patient</th><th>File</th><th>Row</th><th>Field</th><th>Code</th><th>Message</th></tr></thead><tbody>${rows || '<tr><td colspan="9">No problems.</td></tr>'}</tbody></table>
${report.problems.length > PAGE_PROBLEMS ? `<p>The first ${PAGE_PROBLEMS.toLocaleString('en-US')} problems are shown; problems.csv lists them all.</p>` : ''}`;
}

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

const SERVICES = [
  ['dynamodb', 'DynamoDB'],
  ['lambda', 'Lambda'],
  ['s3', 'S3'],
  ['logs', 'CloudWatch Logs'],
  ['sqs', 'SQS'],
  ['stepFunctions', 'Step Functions'],
  ['kms', 'KMS'],
  ['secretsManager', 'Secrets Manager'],
] as const;

/** A dry run's live run on AWS: how long at 1, 4 and 8 keys, how many executions, what it costs. */
function projectionSection(report: RunReport): string {
  const p = report.projection;
  if (!p) return '';
  const rows = p.atKeys
    .map(
      (k) =>
        `<tr${k.keys === p.keys ? ' class="chosen"' : ''}><td>${k.keys}${k.keys === p.keys ? ' (configured)' : ''}</td><td class="n">${esc(runDuration(k.minutes))}</td><td class="n">${k.executions.toLocaleString('en-US')}</td><td class="n">${esc(usd(k.cost))}</td></tr>`,
    )
    .join('');
  // the services of a cent or more, dearest first: below that a breakdown is noise
  const parts = SERVICES.filter(([k]) => p.cost[k] >= 0.01)
    .sort(([a], [b]) => p.cost[b] - p.cost[a])
    .map(([k, name]) => `${name} ${usd(p.cost[k])}`)
    .join(', ');
  const prices = p.regionalPrices
    ? `${esc(p.region)}'s prices of ${esc(p.pricesRead)}`
    : `us-east-1's list prices of ${esc(p.pricesRead)} (for ${esc(p.region)})`;
  return `<h2 id="projection">The live run on AWS: how long, and what it costs</h2>
<p>Going live takes about ${fig(p.requests, 'projection.requests')} Cliniko requests. Cliniko allows 200 a minute per key (per Cliniko user), so the keys decide how long the run takes; what is requested and stored stays the same. The AWS cost is the run's own, in US dollars at ${prices}; the stack's monthly charges (its key, the clinic's secret, alarms) are not included.</p>
<table><thead><tr><th>keys</th><th>time</th><th>Step Functions executions</th><th>AWS cost of the run</th></tr></thead><tbody>${rows}</tbody></table>
${parts ? `<p>At ${p.keys} key${p.keys === 1 ? '' : 's'}: ${esc(parts)}.</p>` : ''}`;
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
    ? `<table><thead><tr><th>Table</th><th>Rows</th></tr></thead><tbody>${excluded.map(([k, n]) => `<tr><td>${esc(displayName(k))}</td><td>${fig(n, `excluded.${k}`)}</td></tr>`).join('')}</tbody></table>`
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
${supportLine(report)}
<h2>Next steps</h2>
<ol class="checklist">${checklist}</ol>
${aidsSection(report)}
${arrivalsSection(report)}
${projectionSection(report)}
<h2>Not transferable (counted, not migrated)</h2>
${excludedTable}
${problemsSection(report)}
<section class="sign-off"><h2>Sign-off</h2><p>Checked and approved by:</p><p>Role:</p><p>Signature and date:</p></section>
<script>${SCRIPT}</script>
</body></html>`;
}

/** What each support record is, as the clinic sees it in Cliniko. */
const SUPPORT_WORDS: Record<SupportEntity, [string, string]> = {
  migratedAppointmentType: ['"Migrated appointment" type', '"Migrated appointment" types'],
  treatmentNoteTemplates: ['treatment note template', 'treatment note templates'],
  notesArchive: ['notes archive PDF', 'notes archive PDFs'],
};

/**
 * Records written without a source row of their own (issue 23: the fallback appointment type was
 * in Cliniko but not in the report), one sentence under the counts table; empty when there are none.
 */
function supportLine(report: RunReport): string {
  const parts: string[] = [];
  for (const [entity, c] of Object.entries(report.supportRecords ?? {})) {
    if (!isSupportEntity(entity) || !c) continue;
    const [one, many] = SUPPORT_WORDS[entity];
    const made = [
      c.created
        ? `${fig(c.created, `supportRecords.${entity}.created`)} ${esc(c.created === 1 ? one : many)} created`
        : '',
      c.alreadyPresent
        ? `${fig(c.alreadyPresent, `supportRecords.${entity}.alreadyPresent`)} ${esc(c.alreadyPresent === 1 ? one : many)} already in Cliniko`
        : '',
      c.failed
        ? `${fig(c.failed, `supportRecords.${entity}.failed`)} ${esc(c.failed === 1 ? one : many)} failed`
        : '',
    ].filter(Boolean);
    parts.push(...made);
  }
  return parts.length
    ? `<p id="support-records">Also written, without a row of the export: ${parts.join(', ')}.</p>`
    : '';
}
