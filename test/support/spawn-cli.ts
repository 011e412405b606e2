import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';

export interface CliResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly out: string;
  readonly err: string;
}

export const BIN = new URL('../../bin/cliniko-migrate.js', import.meta.url).pathname;

/** The environment of an operator who has set no Cliniko key or URL. */
export function keylessEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const name of ['CLINIKO_API_KEY', 'CLINIKO_API_KEYS', 'CLINIKO_BASE_URL'])
    if (!(name in extra)) delete env[name];
  return env;
}

/**
 * Runs `cliniko-migrate <args>` as a user types it: its own process, in `cwd`, with `env`.
 * Resolves with the exit code and what it printed on stdout and stderr.
 */
export function spawnCli(
  args: string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<CliResult> & { child: ChildProcessByStdio<null, Readable, Readable> } {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: options.cwd,
    env: options.env ?? keylessEnv(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const done = new Promise<CliResult>((resolve, reject) => {
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, out, err }));
  });
  return Object.assign(done, { child });
}
