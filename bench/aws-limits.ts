import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateExport, sandboxSeedForGenerated } from '../apps/generate/generate-export.js';
import { runLocal } from '../apps/local/run-local.js';
import { simulateRun } from '../apps/local/simulated-run.js';
import { startSandbox } from '../apps/sandbox/server.js';
import { type LimitFigure, LimitsMeter } from '../src/core/aws-limits.js';

/**
 * Each AWS hard limit beside the figure a run reaches (issue 22): live runs of generated exports
 * (500 and 2,000 patients; BENCH_LIMITS_PATIENTS="500,2000" sets them) through the local
 * pipeline into the sandbox, then the simulated 200,000-patient / 3,000,000-appointment run at
 * one key (11 days under a virtual clock, the real definition). Figures come from the run's
 * LimitsMeter: what the local runtime measures (history events per execution and per Distributed
 * Map child, largest state payload) and whatever other parts of it record into the same meter
 * (largest item, message and batch, longest invocation per function) are all printed.
 */
export async function awsLimitsBench(): Promise<Record<string, number>> {
  const sizes = (process.env.BENCH_LIMITS_PATIENTS ?? '500,2000').split(',').map(Number).filter(Boolean);
  const figures: Record<string, number> = {};
  for (const patients of sizes) {
    const meter = new LimitsMeter();
    const dir = mkdtempSync(join(tmpdir(), 'bench-aws-limits-'));
    const exportZip = join(dir, 'export.zip');
    await generateExport(exportZip, { patients, appointmentsPerPatient: 5, seed: 5 });
    const key = 'BenchLimitsKey0000000000000001-au1';
    const limit = Number(process.env.BENCH_RATE_LIMIT ?? 3000);
    const sandbox = await startSandbox({ rateLimit: limit, seed: sandboxSeedForGenerated(key) });
    try {
      const result = await runLocal(
        {
          exportZip,
          mode: 'live',
          credentials: { apiKeys: [key], baseUrl: sandbox.baseUrl },
          rateLimitPerMinute: limit,
          batchSize: 500,
          meter,
        },
        (runId) => join(dir, runId),
      );
      meter.record('executions', result.executions.length, Number.POSITIVE_INFINITY, 'executions');
      const stopped = result.report.problems.find((p) => p.code === 'EXECUTION_FAILED');
      console.log(
        `\n${patients.toLocaleString('en-US')} patients (generated export, live run into the sandbox): run ${result.report.status}${stopped ? ` (${stopped.message})` : ''}; ${result.executions.map((e) => `${e.name} ${e.status}`).join(', ')}`,
      );
      print(meter.all());
      keep(figures, `p${patients}`, meter);
    } finally {
      await sandbox.close();
    }
  }

  const run = await simulateRun({ patients: 200_000, appointments: 3_000_000, recordsPerMinute: 200 });
  if (run.failure) throw new Error(`the simulated run failed: ${run.failure.error}: ${run.failure.cause}`);
  run.meter.record('executions', run.executions.length, Number.POSITIVE_INFINITY, 'executions');
  console.log(
    `\n200,000 patients / 3,000,000 appointments at one key (simulated, ${(run.seconds / 86_400).toFixed(1)} days under a virtual clock, ${run.checks} phase checks):`,
  );
  print(run.meter.all());
  for (const e of run.executions) console.log(`  execution ${e.name}: ${e.historyEvents} history events`);
  keep(figures, 'simulated', run.meter);
  figures.simulatedDays = run.seconds / 86_400;
  return figures;
}

function print(all: readonly LimitFigure[]): void {
  const rows = all.filter((f) => Number.isFinite(f.limit) || f.name === 'executions');
  const width = Math.max(...rows.map((f) => f.name.length));
  for (const f of rows) {
    const limit = Number.isFinite(f.limit) ? `${f.limit.toLocaleString('en-US')} ${f.unit}` : '-';
    const share = Number.isFinite(f.limit) ? ` (${((f.value / f.limit) * 100).toFixed(1)}%)` : '';
    console.log(
      `  ${f.name.padEnd(width)}  ${f.value.toLocaleString('en-US').padStart(10)}  AWS limit ${limit}${share}${f.where ? `  at ${f.where}` : ''}`,
    );
  }
}

function keep(figures: Record<string, number>, prefix: string, meter: LimitsMeter): void {
  for (const f of meter.all()) figures[`${prefix} ${f.name}`] = f.value;
}
