import { mkdir } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { dryRun } from '../../src/batch/dry-run.js';
import type { ScanProgress } from '../../src/batch/scan-export.js';
import { type ClinikoAccount, describeAccount, identifyAccount } from '../../src/cliniko/account.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { displayName } from '../../src/core/entities.js';
import { arrivalsLine, atKeys } from '../../src/mapping/arrivals.js';
import { estimateLive, liveEstimateLine } from '../../src/report/live-estimate.js';
import { writeReportFiles } from '../../src/report/report-files.js';
import { projectionLine, projectRun } from '../../src/report/run-projection.js';
import { blockingReasons, type RunReport } from '../../src/report/run-report.js';
import { openArchive } from '../../src/source/archive.js';
import { checkIsExport, checkRefusals } from '../../src/source/export-checks.js';
import { readManifest } from '../../src/source/manifest.js';
import type { SourceProfile } from '../../src/source/profile.js';
import {
  type ConfigBinding,
  configBinding,
  configDifferences,
  type TargetBinding,
  targetBinding,
} from './approval-binding.js';
import { type ClinikoConnection, configuredKeys, connectCliniko } from './cliniko-connection.js';
import { printEntityTable } from './entity-table.js';
import { UsageError } from './errors.js';
import { type Approval, ApprovalError, LocalRegistry, stateDirOf } from './local-registry.js';
import type { RunOptions } from './options.js';
import { sandboxAccountFile } from './sandbox-account.js';

/*
 * The steps `run` takes around the pipeline: refusals before it starts, the state folder, the
 * in-process dry run, and what it prints.
 */

/** A count as the operator reads it (1,234). */
export const fmt = (n: number) => n.toLocaleString('en-US');

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

/** What keeps a blocked dry run from going live, each with its fix; it cannot be approved. */
export function printBlocked(report: RunReport, out: (line: string) => void): void {
  out('Blocked: this dry run cannot go live as configured, and cannot be approved, until these are fixed:');
  for (const reason of blockingReasons(report.problems)) out(`  - ${reason}`);
  out('Then run the dry run again.');
}

/**
 * A live run proceeds under an approval only with the configuration and the Cliniko account its
 * dry run checked (docs/RUNNING.md, `approve`); otherwise it is refused, naming the difference.
 */
export function refuseUnlessBound(
  approval: Approval,
  now: { config: ConfigBinding; target: TargetBinding; account: ClinikoAccount },
): void {
  const problems: string[] = [];
  if (approval.config) {
    const diff = configDifferences(approval.config, now.config);
    if (diff.length) problems.push(`its configuration differs (${diff.join('; ')})`);
  }
  if (approval.target && approval.target.id !== now.target.id)
    problems.push(
      `it goes to another Cliniko account (approved: ${approval.target.description}; now: ${now.target.description})`,
    );
  // the account itself (as Cliniko names it), not only the keys and URL used to reach it
  if (
    approval.account &&
    !problems.length &&
    (approval.account.shard !== now.account.shard || approval.account.id !== now.account.id)
  )
    problems.push(
      `it goes to another Cliniko account (approved: ${describeAccount(approval.account)}; now: ${describeAccount(now.account)})`,
    );
  if (problems.length)
    throw new ApprovalError(
      `dry run ${approval.runId} was approved, but not for this live run: ${problems.join(', and ')}. Run a dry run with this configuration and account and approve it, or run with what was approved.`,
    );
}

/**
 * SIGINT and SIGTERM during a run (docs/RUNNING.md, exit 130). The first signal calls `stop` and
 * aborts `signal`, so the run lets its writes in flight finish and ends; a second signal, or a run
 * still not ended after {@link INTERRUPT_GRACE_MS}, calls `now` and exits 130 at once.
 */
export class InterruptGuard {
  private readonly controller = new AbortController();
  readonly signal = this.controller.signal;
  firedBy: NodeJS.Signals | undefined;
  private handler: ((signal: NodeJS.Signals) => void) | undefined;

  get fired(): boolean {
    return this.firedBy !== undefined;
  }

  arm(on: { stop: (signal: NodeJS.Signals) => void; now: (signal: NodeJS.Signals) => Promise<void> }): void {
    const atOnce = (signal: NodeJS.Signals) => {
      on.now(signal)
        .catch((err: unknown) => console.error(`cliniko-migrate: ${(err as Error).message}`))
        .finally(() => process.exit(130));
    };
    this.handler = (signal) => {
      if (this.firedBy) {
        atOnce(signal);
        return;
      }
      this.firedBy = signal;
      on.stop(signal);
      this.controller.abort();
      setTimeout(() => atOnce(signal), INTERRUPT_GRACE_MS).unref();
    };
    process.on('SIGINT', this.handler);
    process.on('SIGTERM', this.handler);
  }

  disarm(): void {
    if (!this.handler) return;
    process.off('SIGINT', this.handler);
    process.off('SIGTERM', this.handler);
    this.handler = undefined;
  }

  /** Once the interrupted run is recorded: exits 130 even if a cut-off step still holds a handle. */
  exitSoon(): void {
    setTimeout(() => process.exit(130), 5_000).unref();
  }
}

/** How long writes in flight get to finish after Ctrl-C: longer than a writer's batch takes. */
export const INTERRUPT_GRACE_MS = 60_000;

/** The refusals that need no Cliniko: another system's export, or no export at all. */
export async function checkExport(exportPath: string, profile: SourceProfile): Promise<void> {
  const archive = await openArchive(resolve(exportPath));
  try {
    checkRefusals(profile, await readManifest(archive), exportPath);
    checkIsExport(profile, archive, exportPath);
  } finally {
    await archive.close();
  }
}

/**
 * Whether the run goes into an embedded sandbox: with `--sandbox`, or when neither a key nor a
 * Cliniko URL is given (as `npm start` does). A URL without a key is refused: the run would
 * otherwise "succeed" into a throwaway sandbox having written nothing anywhere real (issue 14).
 */
export function chooseSandbox(
  values: Pick<RunOptions, 'sandbox' | 'clinikoUrl'>,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (values.sandbox) return true;
  if (configuredKeys(env).length) return false;
  const url = values.clinikoUrl ?? env.CLINIKO_BASE_URL;
  if (url)
    throw new UsageError(
      `${values.clinikoUrl ? '--cliniko-url' : 'CLINIKO_BASE_URL'} ${url} needs an API key: set CLINIKO_API_KEY (or CLINIKO_API_KEYS, one per Cliniko user), or add --sandbox to try the run in an embedded sandbox instead.`,
    );
  return true;
}

export async function prepareStateDir(dir: string): Promise<string> {
  const path = resolve(dir);
  await mkdir(path, { recursive: true });
  return path;
}

export function summarise(
  report: RunReport,
  files: { json: string; csv: string; html: string },
  out: (line: string) => void,
  estimate?: { config: MigrationConfig; keys: number },
): void {
  out('');
  printEntityTable(report.entities, out);
  const excluded = Object.entries(report.excluded).map(([k, n]) => `${displayName(k)} ${fmt(n)}`);
  if (excluded.length) out(`not transferable (counted, not migrated): ${excluded.join(', ')}`);
  out(
    `${fmt(report.summary.errors)} errors, ${fmt(report.summary.warnings)} warnings, ${fmt(report.summary.infos)} notes; ${fmt(report.cliniko.requests)} Cliniko requests; ${report.summary.seconds.toFixed(1)} s.`,
  );
  if (report.arrivals) out(arrivalsLine(report.arrivals));
  if (report.mode === 'dry-run' && estimate)
    out(liveEstimateLine(estimateLive(report.entities, estimate.config, estimate.keys)));
  if (report.mode === 'dry-run' && report.projection) out(projectionLine(report.projection));
  out(`Report: ${files.json}`);
  out(`Problems: ${files.csv}`);
  out(`Page: ${files.html}`);
}

/** The dry run in one process, without the pipeline (quick checks of big exports). */
export async function inProcessDryRun(
  exportPath: string,
  values: Pick<RunOptions, 'out' | 'sandbox' | 'clinikoUrl' | 'stateDir' | 'config' | 'fresh'>,
  config: MigrationConfig,
  profile: SourceProfile,
  out: (line: string) => void,
): Promise<number> {
  const useSandbox = chooseSandbox(values);
  await checkExport(exportPath, profile);
  let connection: ClinikoConnection | undefined;
  out(`Dry run of ${exportPath} in one process: nothing is written to Cliniko.`);
  try {
    const report = await dryRun(exportPath, {
      profile,
      config,
      client: async (exportRefs) => {
        connection = await connectCliniko({
          sandbox: useSandbox,
          // the kept sandbox account, so this dry run's approval binds the account a live run uses
          sandboxStateFile: sandboxAccountFile(stateDirOf(values)),
          freshSandbox: values.fresh,
          ...(values.clinikoUrl ? { clinikoUrl: values.clinikoUrl } : {}),
          exportRefs,
          clinicTimeZone: config.timeZone,
          formerPractitioner: config.unmatchedPractitioners === 'former-practitioner',
        });
        out(`Cliniko: ${connection.target}`);
        return connection.client;
      },
      onProgress: progressPrinter(out),
    });
    // The keys are known once connected: the figures that depend on them are restated at them.
    const atConnectedKeys: RunReport = {
      ...report,
      cliniko: { ...report.cliniko, keys: connection?.keys ?? 1 },
      ...(report.arrivals ? { arrivals: atKeys(report.arrivals, connection?.keys ?? 1) } : {}),
      projection: projectRun({
        planned: report.entities,
        config,
        keys: connection?.keys ?? 1,
        region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
        exportBytes: report.projection?.exportBytes,
      }),
    };
    const files = await writeReportFiles(resolve(values.out ?? `out/${report.runId}`), atConnectedKeys);
    summarise(atConnectedKeys, files, out, { config, keys: connection?.keys ?? 1 });
    // Registered like a pipeline dry run, so it can be looked up and approved.
    if (report.source.sha256) {
      const at = new Date().toISOString();
      await new LocalRegistry(stateDirOf(values)).putRun({
        runId: report.runId,
        mode: 'dry-run',
        exportFile: report.source.file,
        sha256: report.source.sha256,
        state: report.status === 'blocked' ? 'blocked' : 'succeeded',
        startedAt: report.startedAt,
        updatedAt: at,
        entities: report.entities,
        reportDir: dirname(files.json),
        ...(report.timeZone ? { timeZone: report.timeZone } : {}),
        invocation: {
          exportPath,
          ...(values.config ? { configPath: resolve(values.config) } : {}),
          stateDir: stateDirOf(values),
          ...(values.clinikoUrl ? { clinikoUrl: values.clinikoUrl } : {}),
          sandbox: Boolean(connection?.sandbox),
        },
        config: configBinding(config),
        ...(connection
          ? {
              target: targetBinding({
                sandbox: Boolean(connection.sandbox),
                baseUrl: connection.credentials.baseUrl ?? connection.client.baseUrl,
                apiKeys: connection.credentials.apiKeys,
              }),
            }
          : {}),
        ...(connection
          ? { account: await identifyAccount([connection.client], await connection.client.listBusinesses()) }
          : {}),
      });
      if (report.status === 'blocked') printBlocked(report, out);
      else out(`When the report is right: cliniko-migrate approve ${report.runId}`);
    }
    return 0;
  } finally {
    await connection?.close();
  }
}
