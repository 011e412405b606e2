import { spawn } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { BIN, keylessEnv, spawnCli } from '../support/spawn-cli.js';

/**
 * The clinic's rehearsal with `--sandbox` only (issue 26): dry run → approve → the live command
 * approve prints, run exactly as printed (through a shell) → a later export → rollback, each
 * exit 0, all in one kept sandbox account; `--fresh` then starts a new account.
 */
const clients = (n: number) =>
  csv('ClientId,FirstName,LastName', ...Array.from({ length: n }, (_, i) => `C${i + 1},Ann${i + 1},Lee`));

function shell(
  command: string,
  cwd: string,
  env: NodeJS.ProcessEnv,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn('sh', ['-c', command], { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out }));
  });
}

describe('a rehearsal with --sandbox reaches its end', () => {
  it('dry run, approve, the printed live command, a delta and a rollback all exit 0 in one kept account', async () => {
    const home = await tempDir('rehearsal-');
    copyFileSync(await writeZip({ ...BASE, 'Clients.csv': clients(2) }), join(home, 'first.zip'));
    copyFileSync(await writeZip({ ...BASE, 'Clients.csv': clients(3) }), join(home, 'later.zip'));
    // `cliniko-migrate` on the PATH, as installed, so the printed command runs as printed
    const bin = join(home, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'cliniko-migrate'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'cliniko-migrate'), 0o755);
    // the state folder named by --state-dir only, so each printed next step must carry it
    const env = keylessEnv({
      HOME: home,
      XDG_STATE_HOME: join(home, 'xdg'),
      PATH: `${bin}:${process.env.PATH ?? ''}`,
    });
    delete env.CLINIKO_MIGRATE_STATE_DIR;
    const state = ['--state-dir', 'state'];
    const cli = (...args: string[]) => spawnCli([...args, ...state], { cwd: home, env });
    const rate = ['--sandbox-rate-limit', '5000'];

    const dry = await cli('run', 'first.zip', '--sandbox', ...rate, '--out', 'dry');
    expect(dry.code).toBe(0);
    const account = dry.out.match(/Sandbox account (\d+)/)?.[1];
    expect(account).toBeDefined();
    const dryId = dry.out.match(/cliniko-migrate approve (run-\w+)/)?.[1] ?? '';
    const approveLine = dry.out.split('\n').find((l) => l.includes('cliniko-migrate approve run-')) ?? '';

    const approve = await shell(approveLine.slice(approveLine.indexOf('cliniko-migrate')), home, env);
    expect(approve.code).toBe(0);
    const printed = approve.out.split('\n').find((l) => l.trim().startsWith('cliniko-migrate run'));
    expect(printed).toBeDefined();
    const live = await shell(printed?.trim() ?? '', home, env);
    expect(live.out).not.toContain('not for this live run');
    expect(live.code).toBe(0);
    expect(live.out).toContain(`Sandbox account ${account}`);

    const delta = await cli('run', 'later.zip', '--sandbox', ...rate, '--mode', 'live', '--out', 'delta');
    expect(delta.code).toBe(0);
    expect(delta.out).toContain(`Sandbox account ${account}`);
    const deltaId = delta.out.match(/Run (run-\w+) \(live\)/)?.[1] ?? '';

    const rollback = await cli('rollback', deltaId);
    expect(rollback.err).toBe('');
    expect(rollback.code).toBe(0);
    expect(rollback.out).toMatch(/archived [1-9]/);

    const fresh = await cli('run', 'first.zip', '--sandbox', '--fresh', ...rate, '--out', 'fresh');
    expect(fresh.code).toBe(0);
    expect(fresh.out).not.toContain(`Sandbox account ${account}`);

    // status without a run id lists every run of the folder, newest first
    const list = await cli('status');
    expect(list.code).toBe(0);
    const listed = list.out.split('\n').filter((l) => l.startsWith('run-'));
    const ids = listed.map((l) => l.split(' ')[0]);
    expect(ids.at(-1)).toBe(dryId);
    expect(ids).toContain(deltaId);
    expect(listed[0]).toMatch(/ dry-run {2}first\.zip {2}succeeded {2}started /);
  }, 600_000);
});
