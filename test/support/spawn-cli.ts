import { spawn } from 'node:child_process';

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
): Promise<{ code: number | null; signal: NodeJS.Signals | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: options.cwd,
      env: options.env ?? keylessEnv(),
      stdio: ['ignore', 'pipe', 'pipe'],
    });
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
}
