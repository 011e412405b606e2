import { readFile, rm, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import lockfile from 'proper-lockfile';
import { z } from 'zod';
import { UsageError } from './errors.js';

/**
 * One process per state folder (issue 23): the status table under it is a database one process
 * opens (a second one saw "Database is closed" and hung). The lock is proper-lockfile's: a
 * directory made atomically (`<state>/.lock`) whose mtime its holder refreshes every 5 s, so a
 * lock left by a process that died without a word is stale after 15 s; a lock whose holder's pid is
 * gone from this very host is taken over at once. Who holds it (pid, host, start, command) is in
 * `<state>/.lock-owner.json`, for the refusal line.
 */
const LockOwner = z.object({
  pid: z.number().int(),
  host: z.string(),
  startedAt: z.string(),
  command: z.string(),
});
type LockOwner = z.infer<typeof LockOwner>;

const STALE_MS = 15_000;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but is another user's
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
};

async function ownerOf(stateDir: string): Promise<LockOwner | undefined> {
  try {
    const parsed = LockOwner.safeParse(
      JSON.parse(await readFile(join(stateDir, '.lock-owner.json'), 'utf8')),
    );
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Takes the state folder for this process (the folder must exist), or refuses at once.
 * `command`: what this process does there (`run`, `rollback`), named to a second process.
 * @returns the release, also done by proper-lockfile when the process exits.
 * @throws UsageError (exit 2) naming the process that holds the folder (pid, host, start).
 */
export async function lockStateDir(stateDir: string, command: string): Promise<() => Promise<void>> {
  const lockfilePath = join(stateDir, '.lock');
  const options = {
    lockfilePath,
    realpath: false,
    stale: STALE_MS,
    update: 5_000,
    retries: 0,
    // the folder was taken from under a live process (its refresh stalled for 15 s): say so
    onCompromised: (err: Error) =>
      console.error(`cliniko-migrate: the lock on state folder ${stateDir} was lost: ${err.message}`),
  };
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(stateDir, options);
  } catch (err) {
    // no such folder: nothing in it to share (the command says what is missing)
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return async () => {};
    if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
    const owner = await ownerOf(stateDir);
    if (!owner || owner.host !== hostname() || alive(owner.pid))
      throw new UsageError(
        `state folder ${stateDir} is in use by another cliniko-migrate ${owner ? `${owner.command} (pid ${owner.pid} on ${owner.host}, started ${owner.startedAt})` : 'process'}: one process per state folder; wait for it to end, or use another --state-dir`,
      );
    // its process is gone from this host: the lock is left over, taken over at once
    await rm(lockfilePath, { recursive: true, force: true });
    release = await lockfile.lock(stateDir, options);
  }
  const owner: LockOwner = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    command,
  };
  await writeFile(join(stateDir, '.lock-owner.json'), `${JSON.stringify(owner)}\n`, { mode: 0o600 });
  return async () => {
    await rm(join(stateDir, '.lock-owner.json'), { force: true });
    await release().catch(() => undefined);
  };
}
