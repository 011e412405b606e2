import { mkdir, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { readReferenceTables } from '../../src/batch/reference-tables.js';
import { type ClinikoAccount, describeAccount } from '../../src/cliniko/account.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';
import { displayName } from '../../src/core/entities.js';
import { arrivalsLine } from '../../src/mapping/arrivals.js';
import { estimateLive, liveEstimateLine } from '../../src/report/live-estimate.js';
import { projectionLine } from '../../src/report/run-projection.js';
import { blockingReasons, type RunReport } from '../../src/report/run-report.js';
import { openArchive } from '../../src/source/archive.js';
import { checkIsExport, checkRefusals } from '../../src/source/export-checks.js';
import { readManifest } from '../../src/source/manifest.js';
import type { SourceProfile } from '../../src/source/profile.js';
import { runInProcess, type TableProgress } from '../local/run-in-process.js';
import {
  type ConfigBinding,
  configBinding,
  configDifferences,
  type TargetBinding,
  targetBinding,
} from './approval-binding.js';
import { configuredKeys, connectCliniko } from './cliniko-connection.js';
import { printEntityTable } from './entity-table.js';
import { UsageError } from './errors.js';
import { type Approval, ApprovalError, LocalRegistry, stateDirOf } from './local-registry.js';
import type { RunOptions } from './options.js';
import { sandboxAccountFile } from './sandbox-account.js';
import { stateDirArgument } from './shell-words.js';
import { asZip } from './zip-folder.js';

/*
 * The steps `run` takes around the pipeline: refusals before it starts, the state folder, the
 * in-process dry run, and what it prints.
 */

/**
 * Checks the export before anything starts, so bad input fails fast with exit code 2: refused
 * systems, whether it is an export at all. Returns its reference tables (locations, practitioners)
 * for matching against the account. @throws UsageError naming the file and the fault.
 */
export async function checkExport(
  exportPath: string,
  profile: SourceProfile,
  config: MigrationConfig,
): Promise<Awaited<ReturnType<typeof readReferenceTables>>> {
  const archive = await openArchive(resolve(exportPath));
  try {
    checkRefusals(profile, await readManifest(archive), exportPath);
    checkIsExport(profile, archive, exportPath);
    return await readReferenceTables(archive, profile, config, () => undefined);
  } finally {
    await archive.close();
  }
}

/** A count as the operator reads it (1,234). */
export const fmt = (n: number) => n.toLocaleString('en-US');

/** Plain progress lines: one per 10,000 rows and one when a table is done. */
export function progressPrinter(out: (line: string) => void): (p: TableProgress) => void {
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

/**
 * The dry run in one process (`run --in-process`): the pipeline's own steps, one after another
 * over in-memory ports and without a writer (apps/local/run-in-process.ts), so its counts and
 * problems are the pipeline dry run's, without the emulators. Prints and writes what a pipeline
 * dry run does (report files in --out, the summary, the registry's record for `approve`), with
 * a line per table as it is mapped. Exit codes as `run`'s: 1 when a step failed, 2 when
 * Preflight refused the run, else 0.
 */
export async function inProcessDryRun(
  exportPath: string,
  values: Pick<
    RunOptions,
    'out' | 'sandbox' | 'clinikoUrl' | 'stateDir' | 'config' | 'fresh' | 'sandboxRateLimit' | 'keepWork'
  >,
  config: MigrationConfig,
  profile: SourceProfile,
  out: (line: string) => void,
): Promise<number> {
  const useSandbox = chooseSandbox(values);
  const exportRefs = await checkExport(exportPath, profile, config);
  out(`Dry run of ${exportPath} in one process: nothing is written to Cliniko.`);
  const connection = await connectCliniko({
    sandbox: useSandbox,
    // the kept sandbox account, so this dry run's approval binds the account a live run uses
    sandboxStateFile: sandboxAccountFile(stateDirOf(values)),
    freshSandbox: values.fresh,
    ...(values.clinikoUrl ? { clinikoUrl: values.clinikoUrl } : {}),
    exportRefs,
    clinicTimeZone: config.timeZone,
    formerPractitioner: config.unmatchedPractitioners === 'former-practitioner',
    sandboxRateLimit: values.sandboxRateLimit,
  });
  let zip: string | undefined;
  try {
    out(`Cliniko: ${connection.target}`);
    zip = await asZip(resolve(exportPath));
    const {
      report,
      run,
      files: texts,
    } = await runInProcess({
      exportZip: zip,
      ...(values.config ? { configJson: resolve(values.config) } : {}),
      credentials: connection.credentials,
      profile,
      rateLimitPerMinute: connection.sandbox ? values.sandboxRateLimit : 200,
      region: process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION,
      startedBy: process.env.USER ?? 'local user',
      onProgress: progressPrinter(out),
    });
    const dir = resolve(values.out ?? `out/${report.runId}`);
    await mkdir(dir, { recursive: true });
    for (const [file, text] of Object.entries(texts)) await writeFile(join(dir, file), text);
    const files = {
      json: join(dir, 'report.json'),
      csv: join(dir, 'problems.csv'),
      html: join(dir, 'report.html'),
    };
    summarise(report, files, out, { config, keys: connection.credentials.apiKeys.length });
    const stopped = report.problems.find((p) => p.code === 'EXECUTION_FAILED');
    if (report.status === 'failed' && stopped) {
      console.error(`cliniko-migrate: ${stopped.message} (report: ${files.json})`);
      return 1;
    }
    if (report.status === 'failed') {
      // Preflight stopped the run (configuration or Cliniko setup): unusable input, exit 2.
      for (const p of report.problems) console.error(`cliniko-migrate: ${p.message}`);
      return 2;
    }
    // Registered like a pipeline dry run, so it can be looked up and approved.
    await new LocalRegistry(stateDirOf(values)).putRun({
      runId: report.runId,
      mode: 'dry-run',
      exportFile: basename(exportPath),
      sha256: report.source.sha256,
      state: report.status === 'blocked' ? 'blocked' : 'succeeded',
      startedAt: report.startedAt,
      updatedAt: new Date().toISOString(),
      entities: report.entities,
      reportDir: dir,
      ...(report.timeZone ? { timeZone: report.timeZone } : {}),
      invocation: {
        exportPath,
        ...(values.config ? { configPath: resolve(values.config) } : {}),
        stateDir: stateDirOf(values),
        ...(values.clinikoUrl ? { clinikoUrl: values.clinikoUrl } : {}),
        sandbox: Boolean(connection.sandbox),
      },
      config: configBinding(config),
      target: targetBinding({
        sandbox: Boolean(connection.sandbox),
        baseUrl: connection.credentials.baseUrl ?? connection.client.baseUrl,
        apiKeys: connection.credentials.apiKeys,
      }),
      ...(run ? { account: run.account } : {}),
    });
    if (report.status === 'blocked') printBlocked(report, out);
    else
      out(
        `When the report is right: cliniko-migrate approve ${report.runId}${stateDirArgument(values.stateDir)}`,
      );
    return 0;
  } finally {
    await connection.close();
    // an unpacked export's temporary zip goes with the run, as the pipeline's does
    if (zip && zip !== resolve(exportPath)) {
      if (values.keepWork) out(`Working copy kept: ${zip}`);
      else await rm(dirname(zip), { recursive: true, force: true });
    }
  }
}
