import { rm } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { type ClinikoAccount, describeAccount, identifyAccount } from '../../src/cliniko/account.js';
import type { RateLimitWait } from '../../src/cliniko/rate-limiter.js';
import { loadConfig } from '../../src/config/migration-config.js';
import { displayName, ENTITY_KEYS } from '../../src/core/entities.js';
import { clinicTime } from '../../src/core/time-zone.js';
import { releaseLease } from '../../src/lease/account-lease.js';
import { loadProfile } from '../../src/source/profile.js';
import { refuseIfHeld, takeOver } from './account-lease.js';
import { configBinding, targetBinding } from './approval-binding.js';
import { connectCliniko } from './cliniko-connection.js';
import { UsageError } from './errors.js';
import {
  ApprovalError,
  LocalRegistry,
  type LocalRunRecord,
  type RunInvocation,
  type RunPiece,
  sha256Of,
  stateDirOf,
  zoneOf,
} from './local-registry.js';
import type { RunOptions } from './options.js';
import { DEFAULT_SANDBOX_RATE_LIMIT } from './options.js';
import { runProgress } from './progress.js';
import { keepDeadLetters } from './redrive-command.js';
import {
  checkExport,
  chooseSandbox,
  fmt,
  InterruptGuard,
  inProcessDryRun,
  prepareStateDir,
  printBlocked,
  refuseUnlessBound,
  summarise,
} from './run-steps.js';
import { sandboxAccountFile } from './sandbox-account.js';
import { stateDirArgument } from './shell-words.js';
import { lockStateDir } from './state-lock.js';
import { asZip } from './zip-folder.js';

/** How long a stop at once (a second Ctrl-C) waits for the account's lease to be released. */
const AT_ONCE_RELEASE_MS = 5_000;

/** `run`: the options docs/RUNNING.md and `run --help` name, parsed by `main`. */
export async function runCommand(
  exportPath: string,
  values: RunOptions,
  out: (line: string) => void,
): Promise<number> {
  const mode = values.mode;
  const config = await loadConfig(values.config);
  const profile = loadProfile('gensolve');
  if (values.inProcess) {
    if (mode !== 'dry-run') throw new UsageError('--in-process runs dry runs only');
    return inProcessDryRun(resolve(exportPath), values, config, profile, out);
  }
  const sandboxLimit = values.sandboxRateLimit;

  const exportRefs = await checkExport(exportPath, profile, config);
  const useSandbox = chooseSandbox(values);
  if (values.fresh && !useSandbox)
    throw new UsageError('--fresh starts a new embedded sandbox account: it goes with --sandbox');
  const stateDir = stateDirOf(values);
  // One process per state folder, decided before Cliniko is asked anything: a second process is
  // refused at once (not after its connection's round trips), and never opens the kept sandbox
  // account the first one is writing to.
  const unlockState = await lockStateDir(await prepareStateDir(stateDir), 'run');
  let connection: Awaited<ReturnType<typeof connectCliniko>>;
  try {
    connection = await connectCliniko({
      sandbox: useSandbox,
      sandboxStateFile: sandboxAccountFile(stateDir),
      freshSandbox: values.fresh,
      ...(values.clinikoUrl ? { clinikoUrl: values.clinikoUrl } : {}),
      exportRefs,
      clinicTimeZone: config.timeZone,
      formerPractitioner: config.unmatchedPractitioners === 'former-practitioner',
      sandboxRateLimit: sandboxLimit,
    });
  } catch (err) {
    await unlockState();
    throw err;
  }
  let account: ClinikoAccount;
  try {
    account = await identifyAccount([connection.client], await connection.client.listBusinesses());
  } catch (err) {
    await connection.close();
    await unlockState();
    throw err;
  }
  out(
    `${mode === 'live' ? 'Live run' : 'Dry run (nothing is written to Cliniko)'} of ${exportPath} into ${connection.target}, Cliniko account ${describeAccount(account)}.`,
  );
  let zip: string | undefined;
  let stopProgress = () => {};
  // one writer per Cliniko account (issue 23): refused here at once, decided in Preflight
  let leaseRunId: string | undefined;
  const interrupt = new InterruptGuard();
  try {
    zip = await asZip(resolve(exportPath));
    if (mode === 'live') {
      if (values.takeOver)
        await takeOver(connection.client, { yes: values.yes, timeZone: config.timeZone, out });
      await refuseIfHeld(connection.client, config.timeZone);
    }
    const registry = new LocalRegistry(stateDir);
    const sha256 = await sha256Of(zip);
    const bindings = {
      config: configBinding(config),
      target: targetBinding({
        sandbox: Boolean(connection.sandbox),
        baseUrl: connection.credentials.baseUrl ?? connection.client.baseUrl,
        apiKeys: connection.credentials.apiKeys,
      }),
    };
    const invocation: RunInvocation = {
      exportPath: resolve(exportPath),
      ...(values.config ? { configPath: resolve(values.config) } : {}),
      stateDir,
      ...(values.clinikoUrl ? { clinikoUrl: values.clinikoUrl } : {}),
      sandbox: Boolean(connection.sandbox),
      ...(connection.sandbox && sandboxLimit !== DEFAULT_SANDBOX_RATE_LIMIT
        ? { sandboxRateLimit: sandboxLimit }
        : {}),
    };
    if (mode === 'live' && values.requireApproval) {
      const approval = await registry.approvalFor(sha256);
      if (!approval)
        throw new ApprovalError(
          `${exportPath} (sha256 ${sha256.slice(0, 12)}…) has no approved dry run: run it with --mode dry-run, check its report, then \`cliniko-migrate approve <runId>\``,
        );
      refuseUnlessBound(approval, { ...bindings, account });
      out(
        `Approved: dry run ${approval.runId}, signed off by ${approval.approvedBy} on ${clinicTime(approval.approvedAt, zoneOf(approval))}.`,
      );
    }
    const now = new Date().toISOString();
    // The same command after an interruption resumes that run, under its id (issue 23): one run,
    // one report, one rollback (the embedded sandbox's account and status table are kept too).
    const resumed = await registry.resumableRun({
      mode,
      sha256,
      account,
      configSha256: bindings.config.sha256,
    });
    if (resumed)
      out(
        `Resuming run ${resumed.runId} (started ${clinicTime(resumed.startedAt, zoneOf(resumed))}, stopped ${clinicTime(resumed.updatedAt, zoneOf(resumed))}): records it wrote are not written again.`,
      );
    const startedAt = resumed?.startedAt ?? now;
    const pieces = resumePieces(resumed, now);
    let record: LocalRunRecord | undefined;
    const base = (runId: string): LocalRunRecord => ({
      runId,
      mode,
      exportFile: basename(exportPath),
      sha256,
      state: 'running',
      startedAt,
      updatedAt: now,
      pid: process.pid,
      invocation,
      ...bindings,
      account,
      ...(config.timeZone ? { timeZone: config.timeZone } : {}),
      pieces,
    });
    const recordInterrupted = async (extra: Partial<LocalRunRecord> = {}) => {
      if (!record) return;
      const { pid: _pid, ...rest } = record;
      const at = new Date().toISOString();
      const course = rest.pieces ?? [];
      record = {
        ...rest,
        ...extra,
        state: 'interrupted',
        updatedAt: at,
        pieces: course.at(-1)?.event === 'interrupted' ? course : [...course, { event: 'interrupted', at }],
      };
      await registry.putRun(record);
    };
    const resumeHint = () =>
      `Run the same command again to resume: records already written are not written twice.`;
    // Ctrl-C (or SIGTERM) stops the run: writes in flight finish, then the run is recorded
    // `interrupted` with its counts and the command exits 130 (docs/RUNNING.md, issue 14). A second
    // signal, or writes that do not finish in time, stop it at once (a write cut off then is
    // re-found in Cliniko by the next run, never created twice).
    interrupt.arm({
      stop: (signal) => {
        console.error(
          `\ncliniko-migrate: ${signal}: stopping run ${record?.runId ?? '(not started)'}: letting the writes in flight finish (press Ctrl-C again to stop at once)…`,
        );
      },
      now: async (signal) => {
        await recordInterrupted();
        // the process exits here, so the finally below never runs: the lease goes now, or the
        // account stays held for LEASE_TTL_SECONDS; bounded, as a stop at once must not wait on Cliniko
        const runId = leaseRunId ?? record?.runId;
        if (mode === 'live' && runId)
          await Promise.race([
            releaseLease(connection.client, runId).catch(() => undefined),
            new Promise<void>((r) => setTimeout(r, AT_ONCE_RELEASE_MS).unref()),
          ]);
        console.error(
          `\ncliniko-migrate: ${signal}: run ${record?.runId ?? '(not started)'} stopped at once and recorded interrupted. ${resumeHint()}`,
        );
      },
    });
    const progress = runProgress({
      tty: process.stdout.isTTY === true,
      out,
      limitPerMinute: (connection.sandbox ? sandboxLimit : 200) * connection.credentials.apiKeys.length,
      timeZone: zoneOf({ timeZone: config.timeZone }),
    });
    stopProgress = () => progress.stop();
    const { runLocal, RunInterrupted } = await import('../local/run-local.js');
    const result = await runLocal(
      {
        signal: interrupt.signal,
        exportZip: zip,
        ...(values.config ? { configJson: resolve(values.config) } : {}),
        mode,
        credentials: connection.credentials,
        rateLimitPerMinute: connection.sandbox ? sandboxLimit : 200,
        // The status table (and the clinic's id map) outlives the run, so a later export adds only
        // what is new; the embedded sandbox's account is kept beside it, so its ids are kept too.
        statePath: await prepareStateDir(join(stateDir, 'status-table')),
        ...(resumed ? { resumeRunId: resumed.runId } : {}),
        onProgress: (line) => progress.line(line),
        onRateLimitWait: (wait) => {
          progress.waiting(wait);
          // `status` from another terminal says so too (issue 23): the record changes only when the
          // wait does (it starts, a 429 moves its end, it ends), not on every second's look.
          if (!record || interrupt.fired || sameWait(record.waiting, wait)) return;
          const { waiting: _was, ...rest } = record;
          record = { ...rest, ...(wait ? { waiting: wait } : {}) };
          void registry.putRun(record).catch(() => undefined);
        },
        onStatus: async (status) => {
          progress.status(status);
          leaseRunId = status.runId;
          record = {
            ...(record ?? base(status.runId)),
            updatedAt: new Date().toISOString(),
            ...(status.phase ? { phase: status.phase } : {}),
            ...(status.byEntity ? { progress: status.byEntity } : {}),
          };
          if (!interrupt.fired) await registry.putRun(record);
        },
      },
      (runId) => resolve(values.out ?? `out/${runId}`),
    ).catch(async (err: unknown) => {
      if (!(err instanceof RunInterrupted)) throw err;
      progress.stop('interrupted');
      if (!record && err.runId) record = base(err.runId);
      await recordInterrupted({
        ...(err.phase ? { phase: err.phase } : {}),
        progress: err.byEntity,
      });
      const written = Object.entries(err.byEntity)
        .filter(([, e]) => e.enqueued > 0)
        .map(([entity, e]) => `${displayName(entity)} ${fmt(e.finished)}/${fmt(e.enqueued)}`);
      console.error(
        `cliniko-migrate: ${interrupt.firedBy}: run ${record?.runId ?? '(not started)'} stopped and recorded interrupted${written.length ? ` (written so far: ${written.join(', ')})` : ''}. ${resumeHint()}`,
      );
      return undefined;
    });
    interrupt.disarm();
    if (!result) {
      interrupt.exitSoon();
      return 130;
    }
    progress.stop();
    const failedRecords = ENTITY_KEYS.reduce((n, k) => n + result.report.entities[k].failed, 0);
    const { pid: _pid, ...finished } = base(result.runId);
    const finishedAt = new Date().toISOString();
    await registry.putRun({
      ...finished,
      pieces: [...pieces, { event: 'finished', at: finishedAt }],
      state:
        result.report.status === 'failed' || result.report.status === 'blocked'
          ? result.report.status
          : failedRecords
            ? 'finished-with-failures'
            : 'succeeded',
      updatedAt: finishedAt,
      entities: result.report.entities,
      reportDir: dirname(result.files.json),
      account,
      ...(result.report.timeZone ? { timeZone: result.report.timeZone } : {}),
    });
    // the run's queues are gone with it: its dead letters are kept for `redrive`
    await keepDeadLetters(stateDir, result.runId, result.deadLetterBodies ?? []);
    summarise(result.report, result.files, out, {
      config,
      keys: connection.credentials.apiKeys.length,
    });
    if (connection.sandbox)
      out(
        `${mode === 'live' ? 'This run wrote into' : 'This dry run read'} the embedded Cliniko sandbox, ${describeAccount(account)}, kept in ${connection.sandboxFile ?? stateDir} for the next step with --sandbox (no real Cliniko account was touched; --sandbox --fresh starts a new sandbox account).`,
      );
    if (result.deadLetterBodies?.length)
      out(
        `${result.deadLetterBodies.length} records were dead-lettered: once the cause is fixed, cliniko-migrate redrive ${result.runId}${stateDirArgument(values.stateDir)}`,
      );
    if (result.report.status === 'blocked') printBlocked(result.report, out);
    else if (mode === 'dry-run' && result.report.status !== 'failed')
      out(
        `When the report is right: cliniko-migrate approve ${result.runId}${stateDirArgument(values.stateDir)}`,
      );
    const stopped = result.report.problems.find((p) => p.code === 'EXECUTION_FAILED');
    if (result.report.status === 'failed' && stopped) {
      // A step failed mid-run: one line, no stack trace; the report says what was done (exit 1).
      console.error(`cliniko-migrate: ${stopped.message} (report: ${result.files.json})`);
      return 1;
    }
    if (result.report.status === 'failed') {
      // Preflight stopped the run (configuration or Cliniko setup): unusable input, exit 2.
      for (const p of result.report.problems) console.error(`cliniko-migrate: ${p.message}`);
      return 2;
    }
    return mode === 'live' && failedRecords > 0 ? 1 : 0;
  } finally {
    interrupt.disarm();
    stopProgress();
    // a run stopped before its Report step (Ctrl-C, a failed emulator) leaves no lease behind
    if (mode === 'live' && leaseRunId)
      await releaseLease(connection.client, leaseRunId).catch(() => undefined);
    await unlockState();
    await connection.close();
    // Working copies of the clinic's records do not outlive the run (the emulators keep theirs
    // in memory): an unpacked export's temporary zip goes, unless the operator keeps it.
    if (zip && zip !== resolve(exportPath)) {
      if (values.keepWork) out(`Working copy kept: ${zip}`);
      else await rm(dirname(zip), { recursive: true, force: true });
    }
  }
}

/**
 * The course of a run this command starts or resumes: a new run starts now; a resumed one keeps its
 * pieces, adds the interruption a killed process never recorded (at its last update), then resumes.
 */
export function resumePieces(resumed: LocalRunRecord | undefined, now: string): RunPiece[] {
  if (!resumed) return [{ event: 'started', at: now }];
  const course: RunPiece[] = [...(resumed.pieces ?? [{ event: 'started', at: resumed.startedAt }])];
  if (course.at(-1)?.event !== 'interrupted') course.push({ event: 'interrupted', at: resumed.updatedAt });
  course.push({ event: 'resumed', at: now });
  return course;
}

/** Whether two readings of the rate limit's wait are the same wait (both none, or equal fields). */
function sameWait(a: RateLimitWait | undefined, b: RateLimitWait | undefined): boolean {
  return a?.reason === b?.reason && a?.since === b?.since && a?.until === b?.until;
}
