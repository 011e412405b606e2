import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { followUpChecklist } from './checklist.js';
import { reportHtml } from './report-page.js';
import { problemsCsv, type RunReport } from './run-report.js';

/** The report as written: with its follow-up checklist. */
export function withChecklist(report: RunReport): RunReport {
  return { ...report, checklist: followUpChecklist(report) };
}

/** A self-contained page: no scripts or styles fetched from anywhere. */
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
  await writeFile(files.json, `${JSON.stringify(withChecklist(report), null, 2)}\n`);
  await writeFile(files.csv, problemsCsv(report.problems));
  await writeFile(files.html, reportHtml(report));
  return files;
}

export { reportHtml };
