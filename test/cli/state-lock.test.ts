import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { UsageError } from '../../apps/cli/errors.js';
import { lockStateDir } from '../../apps/cli/state-lock.js';
import { tempDir } from '../support/exports.js';

/** One process per state folder (issue 23): apps/cli/state-lock.ts on a real folder. */

/** The pid of a process that has ended (so no process on this host has it, for now). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(child.stdout.toString('utf8'));
}

/** A lock as another process left it: proper-lockfile's folder, fresh, and its owner file. */
function leftLock(stateDir: string, owner: { pid: number; host: string }, ageMs = 0) {
  mkdirSync(join(stateDir, '.lock'));
  const at = new Date(Date.now() - ageMs);
  utimesSync(join(stateDir, '.lock'), at, at);
  writeFileSync(
    join(stateDir, '.lock-owner.json'),
    JSON.stringify({ ...owner, startedAt: '2026-12-05T07:00:00.000Z', command: 'run' }),
  );
}

describe('the state folder lock', () => {
  it('a second lock is refused at once naming the holder (pid, host, start); unlock frees the folder', async () => {
    const dir = await tempDir('lock-');
    const unlock = await lockStateDir(dir, 'run');
    expect(existsSync(join(dir, '.lock'))).toBe(true);
    const owner = JSON.parse(readFileSync(join(dir, '.lock-owner.json'), 'utf8')) as Record<string, unknown>;
    expect(owner).toMatchObject({ pid: process.pid, host: hostname(), command: 'run' });

    const asked = Date.now();
    const refused = await lockStateDir(dir, 'rollback').catch((err: unknown) => err);
    const elapsed = Date.now() - asked;
    expect(refused).toBeInstanceOf(UsageError);
    expect((refused as Error).message).toContain(
      `state folder ${dir} is in use by another cliniko-migrate run`,
    );
    expect((refused as Error).message).toContain(
      `(pid ${process.pid} on ${hostname()}, started ${String(owner.startedAt)})`,
    );
    // refused, not queued: no retries
    expect(elapsed).toBeLessThan(1_000);

    await unlock();
    expect(existsSync(join(dir, '.lock'))).toBe(false);
    expect(existsSync(join(dir, '.lock-owner.json'))).toBe(false);
    const again = await lockStateDir(dir, 'rollback');
    await again();
  });

  it('a lock whose process is gone from this host is taken over at once, though it is fresh', async () => {
    const dir = await tempDir('lock-');
    leftLock(dir, { pid: deadPid(), host: hostname() });
    const unlock = await lockStateDir(dir, 'run');
    const owner = JSON.parse(readFileSync(join(dir, '.lock-owner.json'), 'utf8')) as Record<string, unknown>;
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    await unlock();
  });

  it("another host's fresh lock is refused naming that host; once stale (15 s untouched) it is taken", async () => {
    const dir = await tempDir('lock-');
    leftLock(dir, { pid: 4242, host: 'other-host' });
    await expect(lockStateDir(dir, 'run')).rejects.toThrow(
      '(pid 4242 on other-host, started 2026-12-05T07:00:00.000Z)',
    );

    const stale = await tempDir('lock-');
    leftLock(stale, { pid: 4242, host: 'other-host' }, 20_000);
    const unlock = await lockStateDir(stale, 'run');
    await unlock();
  });

  it('a folder not made yet holds nothing to share: no lock, no error', async () => {
    const unlock = await lockStateDir(join(await tempDir('lock-'), 'missing'), 'run');
    await unlock();
  });
});
