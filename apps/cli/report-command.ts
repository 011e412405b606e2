import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BoundaryError } from '../../src/core/boundary.js';
import { plainDateTime, zoneWords } from '../../src/report/page-text.js';
import { parseReportFile } from '../../src/report/report-file.js';
import { reportHtml } from '../../src/report/report-files.js';
import { UsageError } from './errors.js';
import { LocalRegistry, type LocalRunRecord, stateDirOf } from './local-registry.js';
import { summarise } from './run-steps.js';
import { STATE_DIR_ENV } from './state-dir.js';

/**
 * `report [runId]` (issue 26): a run's summary and where its files are, from this machine's state
 * folder, with report.html made again from report.json by this version's page (a report lost from
 * the scroll-back, or one to see after an upgrade, needs no new run). Without a run id, the run
 * started last. Returns 0; an unknown run, or one without a report yet, is a UsageError (exit 2)
 * naming the state folder it looked in.
 */
export async function reportCommand(
  runId: string | undefined,
  options: { readonly stateDir?: string | undefined },
  out: (line: string) => void,
): Promise<number> {
  const stateDir = stateDirOf(options);
  const registry = new LocalRegistry(stateDir);
  const where = `${stateDir} (choose another with --state-dir or ${STATE_DIR_ENV})`;
  let record: LocalRunRecord | undefined;
  if (runId) {
    record = await registry.getRun(runId);
    if (!record) throw new UsageError(`no run ${runId} in ${where}`);
  } else {
    record = (await registry.listRuns())[0];
    if (!record) throw new UsageError(`no runs in ${where}`);
  }
  if (!record.reportDir)
    throw new UsageError(
      `run ${record.runId} has no report yet (it is ${record.state}): ${record.state === 'running' ? 'it is written when the run ends' : 'run the same command again to finish it'}`,
    );
  const files = {
    json: join(record.reportDir, 'report.json'),
    csv: join(record.reportDir, 'problems.csv'),
    html: join(record.reportDir, 'report.html'),
  };
  let text: string;
  try {
    text = await readFile(files.json, 'utf8');
  } catch {
    throw new UsageError(`run ${record.runId}'s report is not at ${files.json} any more (moved or deleted)`);
  }
  let report: ReturnType<typeof parseReportFile>;
  try {
    report = parseReportFile(text, files.json);
  } catch (err) {
    if (err instanceof BoundaryError) throw new UsageError(err.message);
    throw err;
  }
  await writeFile(files.html, reportHtml(report));
  const zone = report.timeZone ?? 'UTC';
  out(
    `Run ${report.runId}: ${report.mode === 'live' ? 'live run' : 'dry run'} of ${report.source.file}, ${report.status}, started ${plainDateTime(report.startedAt, zone)} (${zoneWords(zone)}).`,
  );
  summarise(report, existsSync(files.csv) ? files : { ...files, csv: `${files.csv} (missing)` }, out);
  out(`The page was made again from report.json: ${files.html}`);
  return 0;
}
