import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import type { ClinikoAccount } from '../../src/cliniko/account.js';
import type { RateLimitWait } from '../../src/cliniko/rate-limiter.js';
import type { EntityCounts, EntityKey } from '../../src/core/entities.js';
import { machineTimeZone } from '../../src/core/time-zone.js';
import type { ConfigBinding, TargetBinding } from './approval-binding.js';
import { resolveStateDir, stateDirNotice } from './state-dir.js';

/**
 * What one machine remembers of its runs: each run's state and progress (for `status`, read
 * while the run goes on) and the dry runs the clinic signed off (for `approve` and
 * `run --mode live --require-approval`). Plain JSON files under the state folder.
 */

export interface LocalRunRecord {
  readonly runId: string;
  readonly mode: 'dry-run' | 'live';
  readonly exportFile: string;
  readonly sha256: string;
  readonly state: 'running' | 'succeeded' | 'finished-with-failures' | 'failed' | 'blocked' | 'interrupted';
  readonly startedAt: string;
  /** The process running it: a `running` record whose process is gone was cut off. */
  readonly pid?: number;
  /** What the run was given, so `approve` can print the live command that follows. */
  readonly invocation?: RunInvocation;
  /** The effective configuration and the Cliniko account: what an approval binds. */
  readonly config?: ConfigBinding;
  readonly target?: TargetBinding;
  readonly updatedAt: string;
  /** The phase being written and, per entity, records written (or refused) of those queued. */
  readonly phase?: string;
  readonly progress?: Record<string, { readonly enqueued: number; readonly finished: number }>;
  readonly entities?: Record<EntityKey, EntityCounts>;
  readonly reportDir?: string;
  /** The Cliniko account the run read and wrote (its approvals and state belong to it). */
  readonly account?: ClinikoAccount;
  /** The clinic's IANA zone, as the run resolved it: `status` and `approve` show times in it. */
  readonly timeZone?: string;
  /**
   * The run's course, oldest first: started, then interrupted and resumed as often as it was, then
   * finished (issue 23: a resumed run is the same run, under the same id). ISO 8601 UTC.
   */
  readonly pieces?: readonly RunPiece[];
  /**
   * How the rate limit holds the run's writers back, as read when the record was made (a deployed
   * run's, from its bucket items): `status` says so once it has lasted 15 s (issue 23).
   */
  readonly waiting?: RateLimitWait;
}

export interface RunPiece {
  readonly event: 'started' | 'interrupted' | 'resumed' | 'finished';
  readonly at: string;
}

/** The arguments that locate a run's inputs, as absolute paths. */
export interface RunInvocation {
  readonly exportPath: string;
  readonly configPath?: string;
  readonly stateDir: string;
  readonly clinikoUrl?: string;
  readonly sandbox: boolean;
  /** The embedded sandbox's rate limit, when the run was given one other than the default. */
  readonly sandboxRateLimit?: number;
}

export interface Approval {
  readonly runId: string;
  readonly sha256: string;
  readonly exportFile: string;
  readonly approvedAt: string;
  readonly approvedBy: string;
  readonly config?: ConfigBinding;
  readonly target?: TargetBinding;
  readonly invocation?: RunInvocation;
  readonly account?: ClinikoAccount;
  /** The clinic's IANA zone, the dry run's: `approvedAt` is shown in it. */
  readonly timeZone?: string;
}

export class ApprovalError extends Error {
  override name = 'ApprovalError';
}

export class LocalRegistry {
  constructor(readonly dir: string) {}

  private runPath(runId: string): string {
    if (!/^[\w.-]+$/.test(runId)) throw new ApprovalError(`"${runId}" is not a run id`);
    return join(this.dir, 'runs', `${runId}.json`);
  }

  async putRun(record: LocalRunRecord): Promise<void> {
    await writeJson(this.runPath(record.runId), record);
  }

  async getRun(runId: string): Promise<LocalRunRecord | undefined> {
    return readJson<LocalRunRecord>(this.runPath(runId));
  }

  /** Every run this state folder remembers, newest start first (files it cannot read are passed over). */
  async listRuns(): Promise<LocalRunRecord[]> {
    let names: string[];
    try {
      names = await readdir(join(this.dir, 'runs'));
    } catch (err) {
      if ((err as { code?: string }).code === 'ENOENT') return [];
      throw err;
    }
    const runs: LocalRunRecord[] = [];
    for (const name of names.filter((n) => n.endsWith('.json'))) {
      const run = await readJson<LocalRunRecord>(join(this.dir, 'runs', name)).catch(() => undefined);
      if (run?.runId && run.startedAt) runs.push(run);
    }
    return runs.sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0));
  }

  /**
   * The run that the same command, given again, resumes (issue 23): the latest run of this export
   * (sha256) in this mode, into this Cliniko account with this configuration, that stopped before it
   * finished (recorded `interrupted`, or `running` while its process is gone: killed). Undefined
   * when there is none; a run that finished, failed or was blocked is never resumed.
   */
  async resumableRun(
    match: Pick<LocalRunRecord, 'mode' | 'sha256'> & {
      readonly account: ClinikoAccount;
      readonly configSha256: string;
    },
    alive: (pid: number) => boolean = processAlive,
  ): Promise<LocalRunRecord | undefined> {
    const candidates = (await this.listRuns()).filter(
      (r) =>
        r.mode === match.mode &&
        r.sha256 === match.sha256 &&
        r.config?.sha256 === match.configSha256 &&
        r.account?.shard === match.account.shard &&
        r.account?.id === match.account.id &&
        (r.state === 'interrupted' || (r.state === 'running' && r.pid !== undefined && !alive(r.pid))),
    );
    candidates.sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : 0));
    return candidates[0];
  }

  /** Signs a dry run off: only a dry run that finished, and only for the export it read. */
  async approve(runId: string, by: string, now = new Date()): Promise<Approval> {
    const run = await this.getRun(runId);
    if (!run)
      throw new ApprovalError(`no run ${runId} in ${this.dir} (is --state-dir the one the run used?)`);
    if (run.mode !== 'dry-run')
      throw new ApprovalError(`run ${runId} is a live run; only a dry run is approved`);
    if (run.state === 'running') throw new ApprovalError(`dry run ${runId} has not finished`);
    if (run.state === 'blocked')
      throw new ApprovalError(
        `dry run ${runId} is blocked: its checklist leaves it unable to go live (see its report); fix what it lists in Cliniko or migration.json and run the dry run again`,
      );
    if (run.state === 'interrupted')
      throw new ApprovalError(
        `dry run ${runId} was interrupted before it finished; run the same command again to finish it, then approve`,
      );
    if (run.state === 'failed')
      throw new ApprovalError(
        `dry run ${runId} stopped before it checked the export; fix what it reported and run it again`,
      );
    const approval: Approval = {
      runId,
      sha256: run.sha256,
      exportFile: run.exportFile,
      approvedAt: now.toISOString(),
      approvedBy: by,
      ...(run.config ? { config: run.config } : {}),
      ...(run.target ? { target: run.target } : {}),
      ...(run.invocation ? { invocation: run.invocation } : {}),
      ...(run.account ? { account: run.account } : {}),
      ...(run.timeZone ? { timeZone: run.timeZone } : {}),
    };
    await writeJson(join(this.dir, 'approvals', `${run.sha256}.json`), approval);
    return approval;
  }

  /** The approval of this export's dry run; the live run checks it was for this account (run-command). */
  async approvalFor(sha256: string): Promise<Approval | undefined> {
    if (!/^[0-9a-f]{64}$/.test(sha256)) return undefined;
    return readJson<Approval>(join(this.dir, 'approvals', `${sha256}.json`));
  }
}

export async function sha256Of(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

let tempWrites = 0;

async function writeJson(path: string, value: unknown): Promise<void> {
  await mkdir(join(path, '..'), { recursive: true });
  // Written whole and renamed, so `status` never reads half a file; a temporary name of its own
  // per write, since a run's progress and its rate-limit wait may be recorded at the same moment.
  const temp = `${path}.${process.pid}.${++tempWrites}.tmp`;
  await writeFile(temp, `${JSON.stringify(value, null, 2)}\n`);
  await rename(temp, path);
}

async function readJson<T>(path: string): Promise<T | undefined> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as T;
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return undefined;
    throw err;
  }
}

/**
 * The zone a run's times are shown in: the clinic's as the run resolved it (or as migration.json
 * set it), else this machine's; either way the time names its zone.
 */
export function zoneOf(r: {
  readonly timeZone?: string | undefined;
  readonly config?: ConfigBinding;
}): string {
  if (r.timeZone) return r.timeZone;
  const configured = r.config?.fields.timeZone;
  const zone = configured ? z.string().safeParse(safeJson(configured)) : undefined;
  return zone?.success ? zone.data : machineTimeZone();
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether a process is alive on this machine (EPERM: it is, but belongs to someone else). */
export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}

const noticed = new Set<string>();

/**
 * The state folder a command uses (`--state-dir`, CLINIKO_MIGRATE_STATE_DIR, a `.cliniko-migrate/`
 * in the working directory, else the user's state folder: {@link resolveStateDir}), as an absolute
 * path. A legacy folder is said so on stderr, once per process.
 */
export function stateDirOf(options: { readonly stateDir?: string | undefined }): string {
  const resolved = resolveStateDir(options.stateDir);
  const notice = stateDirNotice(resolved);
  if (notice && !noticed.has(resolved.dir)) {
    noticed.add(resolved.dir);
    console.error(notice);
  }
  return resolved.dir;
}
