import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sortProblems } from '../core/problem.js';
import { followUpChecklist } from './checklist.js';
import { reportHtml } from './report-page.js';
import { problemsCsv, type RunReport } from './run-report.js';

/**
 * The report as written: with its follow-up checklist, and its problems in the order a person
 * works through them (severity, then file and row; see {@link sortProblems}), so report.json,
 * problems.csv and report.html list them alike.
 */
export function withChecklist(report: RunReport): RunReport {
  return { ...report, problems: sortProblems(report.problems), checklist: followUpChecklist(report) };
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
  const written = withChecklist(report);
  await writeFile(files.json, `${JSON.stringify(written, null, 2)}\n`);
  await writeFile(files.csv, problemsCsv(written.problems));
  await writeFile(files.html, reportHtml(written));
  return files;
}

export { reportHtml };
