import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { keyLabel } from '../cliniko/api-key.js';
import { parseFaults } from '../sandbox/faults.js';
import { defaultSeed, type SandboxSeed } from '../sandbox/seed.js';
import { startSandbox } from '../sandbox/server.js';
import { UsageError } from './errors.js';

export const SANDBOX_USAGE = `cliniko-migrate sandbox [--port 4010] [--shard au1] [--rate-limit 200] [--rate-window 60s]
                        [--faults 5xx=0.05,429=0.02,drop-after-commit=0.01,latency=50ms]
                        [--seed seed.json] [--api-key KEY] [--state state.json]`;

export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: "${text}" is not a duration such as 60s or 500ms`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
}

function positiveInt(text: string | undefined, flag: string, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`${flag}: "${text}" is not a whole number`);
  return n;
}

function loadSeed(path: string): SandboxSeed {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`--seed: cannot read ${path}`);
  }
  try {
    return JSON.parse(text) as SandboxSeed;
  } catch (err) {
    throw new UsageError(`--seed: ${path} is not valid JSON (${(err as Error).message})`);
  }
}

/** Starts the Cliniko sandbox alone and serves until interrupted. */
export async function sandboxCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      port: { type: 'string' },
      shard: { type: 'string' },
      'rate-limit': { type: 'string' },
      'rate-window': { type: 'string' },
      faults: { type: 'string' },
      seed: { type: 'string' },
      'api-key': { type: 'string' },
      state: { type: 'string' },
      'fault-seed': { type: 'string' },
    },
    strict: true,
  });
  const shard = (values.shard ?? 'au1').toLowerCase();
  if (!/^[a-z]{2}\d{1,2}$/.test(shard))
    throw new UsageError(`--shard: "${values.shard}" is not a shard such as au1 or uk2`);
  let faults: ReturnType<typeof parseFaults>;
  try {
    faults = parseFaults(values.faults);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const seed: SandboxSeed = values.seed
    ? loadSeed(values.seed)
    : defaultSeed(`sandbox0000000000000000000000000001-${shard}`);
  if (values['api-key']) {
    const users = [...(seed.users ?? [])];
    const first = users[0] ?? {
      first_name: 'Sandbox',
      last_name: 'Admin',
      role: 'administrator' as const,
      is_practitioner: true,
    };
    users[0] = { ...first, api_key: values['api-key'] };
    seed.users = users;
  }
  const sandbox = await startSandbox({
    port: positiveInt(values.port, '--port', 4010),
    shard,
    rateLimit: positiveInt(values['rate-limit'], '--rate-limit', 200),
    rateWindowMs: values['rate-window'] ? parseDuration(values['rate-window'], '--rate-window') : 60_000,
    faults,
    faultSeed: positiveInt(values['fault-seed'], '--fault-seed', 1),
    seed,
    ...(values.state ? { stateFile: values.state } : {}),
  });
  const keys = (seed.users ?? []).flatMap((u) => (u.api_key ? [keyLabel(u.api_key)] : []));
  out(`Cliniko sandbox (shard ${shard}) serving ${sandbox.baseUrl}`);
  out(
    `API keys of seeded users: ${keys.join(', ') || 'none'}; rate limit ${values['rate-limit'] ?? 200} per ${values['rate-window'] ?? '60s'}.`,
  );
  if (!values.seed && !values['api-key'])
    out('Default sandbox key: see README (Cliniko sandbox). Ctrl-C stops the server.');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sandbox.close();
  out('Cliniko sandbox stopped.');
  return 0;
}
