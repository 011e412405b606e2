import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { z } from 'zod';
import { checkPhase } from '../../lambdas/check-phase/check-phase.js';
import { CheckPhaseInput, CheckPhaseOutput } from '../../lambdas/check-phase/io.js';
import { MapBatchInput, MapBatchOutput } from '../../lambdas/map-batch/io.js';
import { mapBatch } from '../../lambdas/map-batch/map-batch.js';
import { PlanInput, PlanOutput } from '../../lambdas/plan/io.js';
import { plan } from '../../lambdas/plan/plan.js';
import { PreflightInput, PreflightOutput } from '../../lambdas/preflight/io.js';
import { preflight } from '../../lambdas/preflight/preflight.js';
import { ReconcileInput, ReconcileOutput } from '../../lambdas/reconcile/io.js';
import { budgetOf, reconcile } from '../../lambdas/reconcile/reconcile.js';
import { ReportInput, ReportOutput } from '../../lambdas/report/io.js';
import { writeReport } from '../../lambdas/report/report.js';
import { runStartFor } from '../../lambdas/start-run/start-run.js';
import { clinikoFactory } from '../../src/adapters/aws/cliniko-factory.js';
import { DryCommandQueue } from '../../src/adapters/memory/dry-command-queue.js';
import { FixedSecretSource } from '../../src/adapters/memory/fixed-secrets.js';
import { MemoryBlobStore } from '../../src/adapters/memory/memory-blob-store.js';
import { MemoryStatusStore } from '../../src/adapters/memory/memory-status-store.js';
import { PHASES } from '../../src/batch/row-processing.js';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import { InMemoryBucketStore } from '../../src/cliniko/rate-limiter.js';
import { parseAt } from '../../src/core/boundary.js';
import { keys } from '../../src/ports/bucket-keys.js';
import type { RunInfo } from '../../src/ports/runs.js';
import type { ClinikoCredentials } from '../../src/ports/secrets.js';
import type { RunReport } from '../../src/report/run-report.js';
import type { SourceProfile } from '../../src/source/profile.js';

/** A table's rows as the in-process dry run maps them: every 10,000 rows, and once when it is done. */
export interface TableProgress {
  readonly table: string;
  /** The table's file in the export, as the profile names it. */
  readonly file: string;
  readonly rows: number;
  readonly done: boolean;
}

export interface InProcessRunOptions {
  /** The export as a zip (a folder is zipped first by the caller, as for the local pipeline). */
  readonly exportZip: string;
  /** The clinic's migration.json, put where Preflight reads it (as the local pipeline puts it). */
  readonly configJson?: string;
  readonly credentials: ClinikoCredentials;
  readonly profile: SourceProfile;
  /** Requests per minute per Cliniko user (Cliniko's, 200, unless an embedded sandbox's). */
  readonly rateLimitPerMinute?: number;
  /** Rows per batch (Plan's), 500 as the local pipeline's. */
  readonly batchSize?: number;
  readonly clinicId?: string;
  /** AWS region the live run would run in, for the report's cost projection. */
  readonly region?: string | undefined;
  readonly startedBy?: string;
  readonly onProgress?: (progress: TableProgress) => void;
  readonly now?: () => Date;
}

export interface InProcessRunResult {
  readonly runId: string;
  /** What Preflight recorded (absent when Preflight refused the run). */
  readonly run?: RunInfo;
  readonly report: RunReport;
  /** The report files as Report wrote them: report.json, problems.csv, report.html, audit.csv. */
  readonly files: Readonly<Record<string, string>>;
  /** What the steps left in the status table and the bucket (batches, outcomes, manifests). */
  readonly store: MemoryStatusStore;
  readonly blobs: MemoryBlobStore;
}

const BatchKeys = z.array(z.string().min(1));
const BUCKET = 'in-process';
/** Rows between two progress lines of a table. */
const PROGRESS_EVERY = 10_000;

/**
 * A dry run in one process: the pipeline's own step cores (the functions lambdas/<step>/handler.ts
 * calls) in the state machine's order (lib/constructs/pipeline-definition.ts: Preflight →
 * Reconcile, each resource until done → Plan → per phase, MapBatch for each batch, then its check
 * → Report), each input and output parsed by the step's schemas (lambdas/<step>/io.ts), over
 * in-memory ports (src/adapters/memory) and no writer: so its counts, problems and report are the
 * pipeline dry run's, decided by the same code, without emulators. The id map starts empty (it
 * lives with the status table of the local pipeline's state folder, not here): what the account
 * holds is found by Reconcile. Errors: a step's failure ends the run with a report as its Catch
 * does (status failed, EXECUTION_FAILED naming the step); a failure of Report itself is thrown.
 */
export async function runInProcess(options: InProcessRunOptions): Promise<InProcessRunResult> {
  const now = options.now ?? (() => new Date());
  const clinicId = options.clinicId ?? 'local';
  const blobs = new MemoryBlobStore();
  const store = new MemoryStatusStore();
  const key = `exports/${clinicId}/${basename(options.exportZip)}`;
  blobs.serveFile(key, options.exportZip);
  if (options.configJson)
    await blobs.putText(
      BUCKET,
      keys.config(clinicId),
      await readFile(options.configJson, 'utf8'),
      'application/json',
    );
  const start = runStartFor({ bucket: BUCKET, key, etag: `in-process-${now().getTime()}` });
  if (!start) throw new Error(`${key} is not an export key`);
  const runId = start.name;

  const make = clinikoFactory(new InMemoryBucketStore(), {
    rateLimitPerMinute: options.rateLimitPerMinute ?? 200,
    rateLimitWindowMs: 60_000,
    rateLimitFraction: 0.96,
    maxTokenWaitMs: undefined,
    clinikoMaxAttempts: undefined,
    clinikoRetryBaseMs: undefined,
  });
  // Cliniko's requests are counted into the run as the handlers' flushRequests counts them.
  const clients = new Set<ClinikoClient>();
  const counted = new Map<ClinikoClient, Record<string, number>>();
  const client = (credentials: ClinikoCredentials, i: number, userId?: string) => {
    const c = make(credentials, i, userId);
    clients.add(c);
    return c;
  };
  const flushRequests = async () => {
    const delta: Record<string, number> = {};
    for (const c of clients) {
      const byStatus = c.counter.byStatus();
      const before = counted.get(c) ?? {};
      for (const [status, n] of Object.entries(byStatus))
        delta[status] = (delta[status] ?? 0) + n - (before[status] ?? 0);
      counted.set(c, byStatus);
    }
    await store.addRequests(runId, delta);
  };
  const runClient = async (run: RunInfo) => client(options.credentials, 0, run.clinikoUsers[0]);
  const deps = {
    blobs,
    store,
    profile: options.profile,
    now,
    secrets: new FixedSecretSource(options.credentials),
    queue: new DryCommandQueue(),
  };

  const report = async (input: Omit<ReportInput, 'runId' | 'clinicId' | 'bucket'>) => {
    const output = parseAt(
      'Report output',
      ReportOutput,
      await writeReport(parseAt('Report input', ReportInput, { runId, clinicId, bucket: BUCKET, ...input }), {
        ...deps,
        region: options.region,
        cliniko: runClient,
      }),
    );
    const files: Record<string, string> = {};
    for (const file of ['report.json', 'problems.csv', 'report.html', 'audit.csv']) {
      const text = blobs.text(keys.report(clinicId, runId, file));
      if (text !== undefined) files[file] = text;
    }
    const reportJson = files['report.json'];
    if (reportJson === undefined) throw new Error(`Report wrote no report.json (${output.reportKey})`);
    const run = await store.getRun(runId).catch(() => undefined);
    return {
      runId,
      ...(run ? { run } : {}),
      report: JSON.parse(reportJson) as RunReport,
      files,
      store,
      blobs,
    };
  };

  let state = 'Preflight';
  try {
    const pre = parseAt(
      'Preflight output',
      PreflightOutput,
      await preflight(
        parseAt('Preflight input', PreflightInput, {
          ...start.input,
          runId,
          mode: 'dry-run',
          startedBy: options.startedBy ?? 'local user',
        }),
        { ...deps, cliniko: client },
      ),
    );
    if (pre.ok) await flushRequests();
    else return await report({ exportKey: key, mode: 'dry-run', failures: pre.failures });

    state = 'Reconcile';
    for (const resource of pre.reconcile ?? []) {
      let done = false;
      while (!done) {
        const out = parseAt(
          'Reconcile output',
          ReconcileOutput,
          await reconcile(
            parseAt('Reconcile input', ReconcileInput, { runId, resource }),
            { ...deps, cliniko: runClient },
            // as a Lambda's budget (lambdas/reconcile/handler.ts): its 15 minutes, a fifth kept for the checkpoint
            budgetOf(15 * 60_000, 3 * 60_000),
          ),
        );
        await flushRequests();
        done = out.done;
      }
    }

    state = 'Plan';
    const planned = parseAt(
      'Plan output',
      PlanOutput,
      await plan(parseAt('Plan input', PlanInput, { runId }), {
        ...deps,
        batchSize: options.batchSize ?? 500,
      }),
    );
    const progress = tableProgress(options, store, runId);
    for (const phase of PHASES) {
      const label = phase.charAt(0).toUpperCase() + phase.slice(1);
      state = `Map${label}`;
      if (planned[phase].batches > 0) {
        const batchKeys = (await blobs.getJson(BUCKET, planned[phase].manifest, BatchKeys)) ?? [];
        for (const batchKey of batchKeys) {
          parseAt(
            'MapBatch output',
            MapBatchOutput,
            await mapBatch(parseAt('MapBatch input', MapBatchInput, { runId, batchKey }), deps),
          );
          progress.mapped(batchKey);
        }
        progress.phaseDone();
        state = `Check${label}`;
        // A dry run enqueues nothing, so its phase is written at the first check.
        const check = parseAt(
          'CheckPhase output',
          CheckPhaseOutput,
          await checkPhase(parseAt('CheckPhase input', CheckPhaseInput, { runId, phase }), {
            store,
            queue: deps.queue,
            now: () => now().getTime(),
          }),
        );
        if (!check.done)
          throw new Error(`phase ${phase} has ${check.enqueued - check.finished} writes outstanding`);
      }
    }
  } catch (err) {
    const error = err instanceof Error ? err : new Error(String(err));
    return await report({
      exportKey: key,
      mode: 'dry-run',
      executionFailure: { Error: error.name, Cause: error.message },
      failedState: state,
    });
  }
  return await report({});
}

/** Progress per table from the batches MapBatch counted: batches of a table come one after another. */
function tableProgress(options: InProcessRunOptions, store: MemoryStatusStore, runId: string) {
  let current: { table: string; rows: number; shown: number } | undefined;
  const fileOf = (table: string) => options.profile.tables.find((t) => t.name === table)?.files[0] ?? table;
  const finish = () => {
    if (current)
      options.onProgress?.({
        table: current.table,
        file: fileOf(current.table),
        // with the rows Plan kept out of the batches (repeated keys, unreadable rows)
        rows: current.rows + (store.batchCounts(runId, `plan:${current.table}`)?.source ?? 0),
        done: true,
      });
    current = undefined;
  };
  return {
    mapped(batchKey: string) {
      const table = /\/batches\/([^/]+)\//.exec(batchKey)?.[1];
      if (!table) return;
      if (current?.table !== table) {
        finish();
        current = { table, rows: 0, shown: 0 };
      }
      current.rows += store.batchCounts(runId, batchKey)?.source ?? 0;
      while (current.rows >= current.shown + PROGRESS_EVERY) {
        current.shown += PROGRESS_EVERY;
        options.onProgress?.({ table, file: fileOf(table), rows: current.shown, done: false });
      }
    },
    phaseDone: finish,
  };
}
