import { readFileSync } from 'node:fs';
import { userKeyLabel } from '../../src/cliniko/api-key.js';
import { parseFaults } from '../sandbox/faults.js';
import { defaultSeed, type SandboxSeed } from '../sandbox/seed.js';
import { startSandbox } from '../sandbox/server.js';
import { UsageError } from './errors.js';
import type { SandboxOptions } from './options.js';

export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new UsageError(`${flag}: "${text}" is not a duration such as 60s or 500ms`);
  const n = Number(m[1]);
  return m[2] === 'ms' ? n : m[2] === 'm' ? n * 60_000 : n * 1000;
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

/** Starts the Cliniko sandbox alone and serves until interrupted (options parsed by `main`). */
export async function sandboxCommand(values: SandboxOptions, out: (line: string) => void): Promise<number> {
  const shard = values.shard.toLowerCase();
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
  if (values.apiKey) {
    const users = [...(seed.users ?? [])];
    const first = users[0] ?? {
      first_name: 'Sandbox',
      last_name: 'Admin',
      role: 'administrator' as const,
      is_practitioner: true,
    };
    users[0] = { ...first, api_key: values.apiKey };
    seed.users = users;
  }
  const sandbox = await startSandbox({
    port: values.port,
    shard,
    rateLimit: values.rateLimit,
    rateWindowMs: values.rateWindow,
    faults,
    faultSeed: values.faultSeed,
    seed,
    ...(values.state ? { stateFile: values.state } : {}),
  });
  const keys = (seed.users ?? []).flatMap((u) => (u.api_key ? [userKeyLabel(u.api_key, u)] : []));
  out(`Cliniko sandbox (shard ${shard}) serving ${sandbox.baseUrl}`);
  out(
    `API keys of seeded users: ${keys.join(', ') || 'none'}; rate limit ${values.rateLimit} per ${values.rateWindow / 1000} s.`,
  );
  if (!values.seed && !values.apiKey)
    out('Default sandbox key: see docs/ARCHITECTURE.md (The Cliniko sandbox). Ctrl-C stops the server.');
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await sandbox.close();
  out('Cliniko sandbox stopped.');
  return 0;
}
