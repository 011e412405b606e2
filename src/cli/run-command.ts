import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../config/migration-config.js';
import { dryRun } from '../migration/dry-run.js';
import { ENTITY_KEYS } from '../migration/entities.js';
import type { ScanProgress } from '../migration/scan-export.js';
import { writeReportFiles } from '../report/run-report.js';
import { loadProfile } from '../source/profile.js';
import { type ClinikoConnection, configuredKeys, connectCliniko } from './cliniko-connection.js';
import { UsageError } from './errors.js';

export const RUN_USAGE =
  'cliniko-migrate run <export.zip|folder> [--config migration.json] [--mode dry-run|live] [--out DIR] [--cliniko-url URL] [--sandbox]';

const fmt = (n: number) => n.toLocaleString('en-US');

/** Plain progress lines: one per 10,000 rows and one when a table is done. */
export function progressPrinter(out: (line: string) => void): (p: ScanProgress) => void {
  const started = Date.now();
  return (p) => {
    const seconds = (Date.now() - started) / 1000;
    out(
      `  ${p.done ? 'read' : '…'} ${p.table} (${p.file}): ${fmt(p.rows)} rows${p.done ? '' : ` after ${seconds.toFixed(1)} s`}`,
    );
  };
}

export async function runCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      config: { type: 'string' },
      mode: { type: 'string', default: 'dry-run' },
      out: { type: 'string' },
      'cliniko-url': { type: 'string' },
      sandbox: { type: 'boolean', default: false },
      'require-approval': { type: 'boolean', default: false },
    },
    strict: true,
  });
  const [exportPath, ...extra] = positionals;
  if (!exportPath || extra.length) throw new UsageError(`run takes one export.\n${RUN_USAGE}`);
  if (values.mode !== 'dry-run' && values.mode !== 'live')
    throw new UsageError(`--mode must be dry-run or live, not "${values.mode}"`);
  if (values.mode === 'live') {
    throw new UsageError(
      '--mode live runs through the pipeline, which this version does not have yet; run a dry run (--mode dry-run) to review the export.',
    );
  }
  const config = await loadConfig(values.config);
  const profile = loadProfile('gensolve');
  const useSandbox = values.sandbox || configuredKeys().length === 0;
  let connection: ClinikoConnection | undefined;
  out(`Dry run of ${exportPath}: reading and checking every row; nothing is written to Cliniko.`);
  try {
    const report = await dryRun(resolve(exportPath), {
      profile,
      config,
      client: async (exportRefs) => {
        connection = await connectCliniko({
          sandbox: useSandbox,
          ...(values['cliniko-url'] ? { clinikoUrl: values['cliniko-url'] } : {}),
          exportRefs,
          clinicTimeZone: config.timeZone,
        });
        out(`Cliniko: ${connection.target}`);
        return connection.client;
      },
      onProgress: progressPrinter(out),
    });
    const dir = resolve(values.out ?? `out/${report.runId}`);
    const files = await writeReportFiles(dir, {
      ...report,
      cliniko: { ...report.cliniko, keys: connection?.keys ?? 1 },
    });
    out('');
    out(`entity            source  planned  present  skipped  invalid`);
    for (const key of ENTITY_KEYS) {
      const c = report.entities[key];
      out(
        `${key.padEnd(16)} ${fmt(c.source).padStart(7)} ${fmt(c.planned).padStart(8)} ${fmt(c.alreadyPresent).padStart(8)} ${fmt(c.skipped).padStart(8)} ${fmt(c.invalid).padStart(8)}`,
      );
    }
    const excluded = Object.entries(report.excluded).map(([k, n]) => `${k} ${fmt(n)}`);
    if (excluded.length) out(`not transferable (counted, not migrated): ${excluded.join(', ')}`);
    out(
      `${fmt(report.summary.errors)} errors, ${fmt(report.summary.warnings)} warnings, ${fmt(report.summary.infos)} notes in ${report.summary.seconds.toFixed(1)} s (${fmt(report.summary.rowsRead)} rows).`,
    );
    out(`Report: ${files.json}`);
    out(`Problems: ${files.csv}`);
    out(`Page: ${files.html}`);
    return 0;
  } finally {
    await connection?.close();
  }
}
