import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { EntityCounts, EntityKey } from '../migration/entities.js';
import type { Problem } from './problem.js';

/** report.json: the machine-readable truth of a run (CONTRACT.md §3). */
export interface RunReport {
  readonly runId: string;
  readonly mode: 'dry-run' | 'live';
  readonly status: 'succeeded' | 'failed';
  readonly source: { readonly system: string; readonly file: string; readonly sha256: string };
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly entities: Record<EntityKey, EntityCounts>;
  readonly excluded: Record<string, number>;
  readonly problems: readonly Problem[];
  readonly cliniko: {
    readonly requests: number;
    readonly byStatus: Record<string, number>;
    readonly keys: number;
    readonly target: string;
  };
  readonly summary: {
    readonly rowsRead: number;
    readonly errors: number;
    readonly warnings: number;
    readonly infos: number;
    readonly seconds: number;
  };
}

const CSV_COLUMNS = ['entity', 'sourceId', 'file', 'row', 'field', 'code', 'severity', 'message'] as const;

/** A cell that a spreadsheet would run as a formula is prefixed with a quote. */
export function csvCell(value: unknown): string {
  let s = value === undefined || value === null ? '' : String(value);
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function problemsCsv(problems: readonly Problem[]): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const p of problems) lines.push(CSV_COLUMNS.map((c) => csvCell(p[c])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A self-contained page: no scripts or styles fetched from anywhere. */
export function reportHtml(report: RunReport): string {
  const rows = Object.entries(report.entities)
    .map(
      ([k, c]) =>
        `<tr><th>${k}</th><td>${c.source}</td><td>${c.planned}</td><td>${c.created}</td><td>${c.alreadyPresent}</td><td>${c.skipped}</td><td>${c.invalid}</td><td>${c.failed}</td></tr>`,
    )
    .join('');
  const problems = report.problems
    .slice(0, 5000)
    .map(
      (p) =>
        `<tr class="${p.severity}"><td>${escapeHtml(p.severity)}</td><td>${escapeHtml(p.entity)}</td><td>${escapeHtml(p.file)}</td><td>${p.row}</td><td>${escapeHtml(p.field)}</td><td>${escapeHtml(p.code)}</td><td>${escapeHtml(p.message)}</td></tr>`,
    )
    .join('');
  const excluded = Object.entries(report.excluded)
    .map(([k, n]) => `<li>${escapeHtml(k)}: ${n} rows (not transferable)</li>`)
    .join('');
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Migration report ${escapeHtml(report.runId)}</title>
<style>body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:1rem 0}td,th{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}td:nth-child(n+3){text-align:left}.error td:first-child{color:#b00}.warning td:first-child{color:#a60}</style></head>
<body><h1>Migration report</h1><p>Run <code>${escapeHtml(report.runId)}</code> (${report.mode}, ${report.status}) of <code>${escapeHtml(report.source.file)}</code>, ${escapeHtml(report.startedAt)} to ${escapeHtml(report.finishedAt)}.</p>
<table><thead><tr><th>entity</th><th>source</th><th>planned</th><th>created</th><th>already present</th><th>skipped</th><th>invalid</th><th>failed</th></tr></thead><tbody>${rows}</tbody></table>
<h2>Not transferable</h2><ul>${excluded || '<li>none</li>'}</ul>
<h2>Problems (${report.problems.length})</h2><table><thead><tr><th>severity</th><th>entity</th><th>file</th><th>row</th><th>field</th><th>code</th><th>message</th></tr></thead><tbody>${problems}</tbody></table>
${report.problems.length > 5000 ? '<p>The first 5,000 problems are shown; problems.csv lists them all.</p>' : ''}</body></html>`;
}

export async function writeReportFiles(
  dir: string,
  report: RunReport,
): Promise<{ json: string; csv: string; html: string }> {
  await mkdir(dir, { recursive: true });
  const files = {
    json: join(dir, 'report.json'),
    csv: join(dir, 'problems.csv'),
    html: join(dir, 'report.html'),
  };
  await writeFile(files.json, `${JSON.stringify(report, null, 2)}\n`);
  await writeFile(files.csv, problemsCsv(report.problems));
  await writeFile(files.html, reportHtml(report));
  return files;
}
