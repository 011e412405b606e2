import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport } from '../apps/generate/generate-export.js';

/**
 * Builds an export of `BENCH_EXPORT_MB` (default 1,024) MB of letters and scans for
 * `BENCH_EXPORT_PATIENTS` (default 1,000) patients with `generate --documents-mb`, in a temporary
 * folder deleted afterwards, dry-runs it end to end through the local pipeline (the CLI's `run
 * --mode dry-run --sandbox`) in a child process, and prints that process's peak RSS: the
 * high-water mark of the whole process, every thread included (README "Large exports on one
 * machine" states the bound).
 */
export async function largeExportBench(): Promise<Record<string, number>> {
  const megabytes = Number(process.env.BENCH_EXPORT_MB ?? 1024);
  const patients = Number(process.env.BENCH_EXPORT_PATIENTS ?? 1000);
  const dir = mkdtempSync(join(tmpdir(), 'cliniko-migrate-large-'));
  try {
    const zip = join(dir, `gensolve-${patients}-${megabytes}mb.zip`);
    const started = Date.now();
    await generateExport(zip, { patients, seed: 1, documentsMb: megabytes });
    const bytes = statSync(zip).size;
    console.log(
      `generated ${(bytes / 1024 ** 2).toFixed(0)} MB (${patients.toLocaleString('en-US')} patients) in ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );
    const child = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        new URL('./large-export-child.ts', import.meta.url).pathname,
        zip,
        join(dir, 'out'),
      ],
      {
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
    );
    const last = child.stdout.trim().split('\n').pop() ?? '{}';
    if (child.status !== 0)
      throw new Error(`the dry run failed (exit ${child.status}): ${child.stderr.slice(-2000)}`);
    const r = JSON.parse(last) as { seconds: number; maxRssMb: number };
    console.log(
      `dry run of ${(bytes / 1024 ** 2).toFixed(0)} MB end to end in ${r.seconds.toFixed(1)} s; peak RSS ${r.maxRssMb.toFixed(0)} MB`,
    );
    return { exportMb: bytes / 1024 ** 2, patients, seconds: r.seconds, peakRssMb: r.maxRssMb };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
