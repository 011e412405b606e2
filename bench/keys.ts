import { fork } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport, sandboxSeedForGenerated } from '../apps/generate/generate-export.js';
import { runLocal } from '../apps/local/run-local.js';
import type { SandboxOptions } from '../apps/sandbox/options.js';
import { ENTITY_KEYS } from '../src/core/entities.js';

/**
 * `npm run bench -- keys`: the same generated export migrated live at 1, 2, 4 and 8 keys (one
 * Cliniko user each), end to end from start to report, wall clock. Each key has Cliniko's limit,
 * 200 requests a minute: BENCH_WINDOW_MS shortens the window with the limit in proportion (the
 * same ratio: 50 requests per 15 s), never the rate. The sandbox answers after 150 ms
 * (BENCH_LATENCY_MS), as a distant Cliniko would. Prints the speed-up over one key at each count
 * and its share of the ideal (target ≥ 0.9 × keys). BENCH_PATIENTS (default 2,000),
 * BENCH_APPOINTMENTS_PER_PATIENT (default 3) and BENCH_KEYS (default 1,2,4,8) shorten it; one key
 * at Cliniko's rate takes about 80 minutes for 2,000 patients, so BENCH_ONE_KEY_SECONDS gives the
 * one-key time of another invocation (the counts can then run in two processes at once: at
 * Cliniko's rate the machine is mostly idle). The sandbox runs in a process of its own, as Cliniko
 * is a server of its own.
 */
export async function keysBench(): Promise<Record<string, number>> {
  const patients = Number(process.env.BENCH_PATIENTS ?? 2000);
  const perPatient = Number(process.env.BENCH_APPOINTMENTS_PER_PATIENT ?? 3);
  const windowMs = Number(process.env.BENCH_WINDOW_MS ?? 60_000);
  // Cliniko's 200 a minute, in proportion to the window (never faster than Cliniko allows)
  const limit = Math.round((200 * windowMs) / 60_000);
  const latencyMs = Number(process.env.BENCH_LATENCY_MS ?? 150);
  const counts = (process.env.BENCH_KEYS ?? '1,2,4,8').split(',').map(Number);
  const oneKey = process.env.BENCH_ONE_KEY_SECONDS ? Number(process.env.BENCH_ONE_KEY_SECONDS) : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'bench-keys-'));
  const exportZip = join(dir, 'export.zip');
  await generateExport(exportZip, { patients, appointmentsPerPatient: perPatient, seed: 5 });
  const figures: Record<string, number> = { patients, windowMs, limit, latencyMs };
  // A first, tiny run loads and compiles every handler, so no key count pays that alone.
  const warmUp = join(dir, 'warm-up.zip');
  await generateExport(warmUp, { patients: 5, appointmentsPerPatient: 1, seed: 5 });
  await migrate(warmUp, 1, dir, windowMs, limit, latencyMs);
  let base = oneKey;
  for (const n of counts) {
    const { seconds, written, failed, requests, limited } = await migrate(
      exportZip,
      n,
      dir,
      windowMs,
      limit,
      latencyMs,
    );
    if (n === 1) base = seconds;
    // without a one-key time, the first count's time stands in for it, as if linear
    base ??= seconds * n;
    const speedUp = base / seconds;
    figures[`seconds@${n}`] = Math.round(seconds * 10) / 10;
    figures[`speedUp@${n}`] = Math.round(speedUp * 100) / 100;
    figures[`ofIdeal@${n}`] = Math.round((speedUp / n) * 100) / 100;
    console.log(
      `${n} key${n === 1 ? ' ' : 's'}: ${seconds.toFixed(1)} s start to report, ${written} written, ${failed} failed, ${requests} requests (${limited} 429), speed-up ${speedUp.toFixed(2)} = ${(speedUp / n).toFixed(2)} × keys`,
    );
  }
  return figures;
}

/** One live migration of `exportZip` with `n` keys into a fresh sandbox, timed start to report. */
async function migrate(
  exportZip: string,
  n: number,
  dir: string,
  windowMs: number,
  limit: number,
  latencyMs: number,
) {
  const keys = Array.from({ length: n }, (_, i) => `BenchKeysKey${String(i).padStart(20, '0')}-au1`);
  const seed = sandboxSeedForGenerated(keys[0] ?? '');
  seed.users = keys.map((api_key, i) => ({ first_name: 'Operator', last_name: `No${i + 1}`, api_key }));
  const sandbox = await sandboxProcess({
    rateLimit: limit,
    rateWindowMs: windowMs,
    seed,
    attachmentProcessingMs: 10,
    faults: { serverError: 0, rateLimited: 0, dropAfterCommit: 0, latencyMs },
  });
  try {
    const started = Date.now();
    const result = await runLocal(
      {
        exportZip,
        mode: 'live',
        credentials: { apiKeys: keys, baseUrl: sandbox.baseUrl },
        rateLimitPerMinute: limit,
        rateLimitWindowMs: windowMs,
        writerConcurrency: writersFor(n),
      },
      (runId) => join(dir, runId),
    );
    const seconds = (Date.now() - started) / 1000;
    const e = result.report.entities;
    const { requests, limited } = await sandbox.close();
    return {
      seconds,
      written: ENTITY_KEYS.reduce((s, k) => s + e[k].created, 0),
      failed: ENTITY_KEYS.reduce((s, k) => s + e[k].failed, 0),
      requests,
      limited,
    };
  } finally {
    sandbox.kill();
  }
}

/** The sandbox started in its own process (bench/sandbox-child.ts). */
export async function sandboxProcess(options: Omit<SandboxOptions, 'observe'>) {
  const child = fork(new URL('./sandbox-child.ts', import.meta.url).pathname, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const next = <T>() =>
    new Promise<T>((resolve, reject) => {
      child.once('message', (m) => resolve(m as T));
      child.once('exit', (code) => reject(new Error(`the sandbox process stopped (exit ${code})`)));
    });
  const ready = next<{ baseUrl: string }>();
  child.send({ options });
  const { baseUrl } = await ready;
  return {
    baseUrl,
    /** Closes the sandbox; resolves to the requests it answered (every status) and its 429s. */
    close: async () => {
      const counts = next<{ requests: number; limited: number }>();
      child.send('close');
      return counts;
    },
    kill: () => {
      if (child.exitCode === null) child.kill();
    },
  };
}

/** One writer per key, as on AWS (lib/migration-stack.ts): each writes its batch of ten at once. */
export function writersFor(keys: number): number {
  return Math.max(2, keys);
}
