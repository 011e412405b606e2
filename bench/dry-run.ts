import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport } from '../apps/generate/generate-export.js';

/**
 * Dry-runs a generated export of 10,000 patients and 150,000 appointments (plus contacts, notes,
 * documents and financial tables) in a separate process and prints rows per second (target
 * ≥ 20,000) and that process's peak RSS (target < 300 MB).
 */
export async function dryRunBench(): Promise<Record<string, number>> {
  const patients = Number(process.env.BENCH_PATIENTS ?? 10_000);
  const dir = join(tmpdir(), 'cliniko-migrate-bench');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `gensolve-${patients}-seed1.zip`);
  if (!existsSync(path)) {
    const started = Date.now();
    await generateExport(path, { patients, seed: 1 });
    console.log(`generated ${path} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  const child = spawnSync(
    process.execPath,
    ['--import', 'tsx', new URL('./dry-run-child.ts', import.meta.url).pathname, path],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  if (child.status !== 0) throw new Error(`dry run failed: ${child.stderr}`);
  const r = JSON.parse(child.stdout.trim().split('\n').pop() ?? '{}') as {
    rows: number;
    seconds: number;
    maxRssMb: number;
    entities: Record<string, { source: number }>;
  };
  const rowsPerSecond = r.rows / r.seconds;
  console.log(
    `${r.rows.toLocaleString('en-US')} rows (${r.entities.patients?.source} clients, ${r.entities.appointments?.source} appointments) in ${r.seconds.toFixed(2)} s`,
  );
  console.log(
    `rows per second ${Math.round(rowsPerSecond).toLocaleString('en-US')} (target ≥ 20,000); peak RSS ${r.maxRssMb.toFixed(0)} MB (target < 300 MB)`,
  );
  return { rows: r.rows, seconds: r.seconds, rowsPerSecond, peakRssMb: r.maxRssMb };
}
