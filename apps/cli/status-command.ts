import { describeAccount } from '../../src/cliniko/account.js';
import { displayName } from '../../src/core/entities.js';
import { clinicTime } from '../../src/core/time-zone.js';
import { nameColumnWidth, printEntityTable } from './entity-table.js';
import {
  ApprovalError,
  LocalRegistry,
  type LocalRunRecord,
  processAlive,
  stateDirOf,
  zoneOf,
} from './local-registry.js';
import type { RunIdOptions } from './options.js';
import { waitingLine } from './progress.js';

const fmt = (n: number) => n.toLocaleString('en-US');

/**
 * A run's state and its counts by entity, while it goes on and after. Without a run id, the runs
 * this machine's state folder remembers, newest first, one line each (a deployed stack's runs are
 * named by the run id its `run` printed, so `--stack` needs one). Errors: ApprovalError (exit 2)
 * for an unknown run, or no run id with `--stack`.
 */
export async function statusCommand(
  runId: string | undefined,
  options: RunIdOptions,
  out: (line: string) => void,
): Promise<number> {
  const { stack } = options;
  const stateDir = stateDirOf(options);
  if (runId === undefined) {
    if (stack)
      throw new ApprovalError(
        `give the run id (run-…) that \`run --stack ${stack}\` printed: the deployed stack is asked about one run at a time`,
      );
    printRunList(await new LocalRegistry(stateDir).listRuns(), stateDir, out);
    return 0;
  }
  let record: LocalRunRecord | undefined;
  if (stack) {
    const { deployedStatus } = await import('./deployed-runs.js');
    const { resolveAwsTarget } = await import('./aws-target.js');
    record = await deployedStatus(stack, runId, await resolveAwsTarget(options));
  } else {
    record = await new LocalRegistry(stateDir).getRun(runId);
    if (!record) throw new ApprovalError(`no run ${runId} in ${stateDir}`);
  }
  printStatus(record, out);
  return 0;
}

/**
 * A run's state as `status` shows it: a `running` record whose process is gone (killed, or the
 * machine restarted) was cut off, so it reads `interrupted`, never `running` forever (issue 14).
 */
export function shownState(r: LocalRunRecord, alive = processAlive): LocalRunRecord['state'] {
  return r.state === 'running' && r.pid !== undefined && !alive(r.pid) ? 'interrupted' : r.state;
}

/**
 * A run's pieces as one phrase each, oldest first (`started 2026-03-02 09:15:04`), in the clinic's
 * time zone when its configuration names one (else UTC, said so): a run interrupted and resumed
 * stays one run (issue 23). A `running` record whose process is gone adds the interruption it could
 * not record, at its last update.
 */
export function runCourse(r: LocalRunRecord, state = shownState(r)): string[] {
  const pieces = [...(r.pieces ?? [{ event: 'started' as const, at: r.startedAt }])];
  if (state === 'interrupted' && pieces.at(-1)?.event !== 'interrupted')
    pieces.push({ event: 'interrupted', at: r.updatedAt });
  const zone = zoneOf(r);
  return pieces.map((p) => `${p.event} ${clinicTime(p.at, zone)}`);
}

/**
 * Prints a run's state, course, account, counts and report folder; a running run held back by the
 * rate limit for 15 s or more also gets progress's waiting line (reason, until when in the
 * clinic's zone, how long so far), as the terminal of a local run shows it. `now`: epoch ms.
 */
export function printStatus(r: LocalRunRecord, out: (line: string) => void, now = Date.now()): void {
  const state = shownState(r);
  out(
    `Run ${r.runId}: ${r.mode} of ${r.exportFile}, ${state}${r.phase && state === 'running' ? ` (phase ${displayName(r.phase)})` : ''}${state === 'interrupted' && r.phase ? ` during ${displayName(r.phase)}` : ''}`,
  );
  if (state === 'interrupted')
    out(
      'It stopped before it finished: run the same command again to resume (written records are not written twice).',
    );
  const zone = zoneOf(r);
  out(`started ${clinicTime(r.startedAt, zone)}, last update ${clinicTime(r.updatedAt, zone)}`);
  const course = runCourse(r, state);
  if (course.length > 1) out(`Course: ${course.join('; ')}`);
  if (r.account) out(`Cliniko account ${describeAccount(r.account)}`);
  const waiting = state === 'running' ? waitingLine(r.waiting, now, zone) : undefined;
  if (waiting) out(waiting.trimStart());
  if (r.entities) {
    printEntityTable(r.entities, out);
  } else if (r.progress) {
    const width = nameColumnWidth(Object.keys(r.progress));
    out(`${'entity'.padEnd(width)}${'written'.padStart(9)}${'queued'.padStart(9)}`);
    for (const [key, p] of Object.entries(r.progress))
      if (p.enqueued > 0)
        out(`${displayName(key).padEnd(width)}${fmt(p.finished).padStart(9)}${fmt(p.enqueued).padStart(9)}`);
  } else out('nothing written yet');
  if (r.reportDir) out(`Report: ${r.reportDir}`);
}

/**
 * The runs of a state folder as `status` without a run id lists them, newest start first: run id,
 * mode, export file, state (as `shownState` reads it) and start in the clinic's zone; then how to
 * see one. An empty folder says so, naming the folder and `--state-dir`.
 */
export function printRunList(runs: LocalRunRecord[], stateDir: string, out: (line: string) => void): void {
  if (runs.length === 0) {
    out(`No runs in ${stateDir} (another state folder? add --state-dir <folder>).`);
    return;
  }
  out(`Runs in ${stateDir}, newest first:`);
  for (const r of runs)
    out(
      `${r.runId}  ${r.mode}  ${r.exportFile}  ${shownState(r)}  started ${clinicTime(r.startedAt, zoneOf(r))}`,
    );
  out('Details of one: cliniko-migrate status <runId>');
}
