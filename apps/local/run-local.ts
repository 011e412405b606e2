import './polyfills.js';
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { basename, join } from 'node:path';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { CheckPhaseOutput } from '../../lambdas/check-phase/io.js';
import { resetRuntime, runtime } from '../../lambdas/shared/runtime.js';
import { runStartFor } from '../../lambdas/start-run/start-run.js';
import { InMemoryBucketStore } from '../../src/cliniko/rate-limiter.js';
import { ENV, secretPrefix } from '../../src/core/environment.js';
import { NOTE_FONTS_DIR_ENV } from '../../src/documents/fonts.js';
import { keys } from '../../src/ports/bucket-keys.js';
import { writeReportFiles } from '../../src/report/report-files.js';
import type { RunReport } from '../../src/report/run-report.js';
import { startEmulators } from './emulators.js';
import { runExecutions } from './execution.js';
import { InvocationFigures, withinTimeout } from './function-limits.js';
import { type HandlerThread, startHandlerThread } from './handler-thread.js';
import { provision } from './provision.js';
import { drainDeadLetters, redriveLocal } from './redrive-local.js';
import {
  type Handler,
  type LocalRunOptions,
  type LocalRunResult,
  RunInterrupted,
  type WriterHandler,
} from './run-local-types.js';
import { describe, stepOutput } from './run-progress.js';
import { lambdaContext, startPoller } from './sqs-poller.js';
import { countsSoFar, stoppedRunReport } from './stopped-run.js';
import {
  functionArn,
  functionsOf,
  LOCAL_STACK,
  resourcesOf,
  stateMachineDefinition,
  synthTemplate,
  taskStates,
} from './template.js';

// Callers import the run's options, status and result from here, beside runLocal.
export * from './run-local-types.js';

/**
 * Runs the pipeline on one machine: the state-machine definition rendered from the CDK stack,
 * executed by aws-local-stepfunctions; the same handlers, with the real AWS SDK clients pointed
 * at local emulators; a local SQS event source for the writers. Nothing here is a copy of what
 * runs on AWS: it is the same definition and the same code, wired locally. The run's report
 * files are written under `outDir(runId)`; errors: RunInterrupted when `options.signal` stops it.
 * Any other failure (the local emulators failing to start or to answer, a step of the machinery
 * here throwing) ends the run with a report too: status `failed`, one EXECUTION_FAILED problem
 * whose message is the failure's first line, the way a failed execution ends (stopped-run.ts).
 */
export async function runLocal(
  options: LocalRunOptions,
  outDir: (runId: string) => string,
): Promise<LocalRunResult> {
  let runId = '';
  const watched: LocalRunOptions = {
    ...options,
    onStatus: (status) => {
      runId = status.runId;
      return options.onStatus?.(status);
    },
  };
  try {
    return await runPipeline(watched, outDir);
  } catch (err) {
    if (err instanceof RunInterrupted) throw err;
    // Before the run has its id (the emulators did not start): an id of this attempt, so the
    // report has a folder of its own.
    const id = runId || `run-local-${Date.now().toString(36)}`;
    const report = stoppedRunReport(id, options, localFailure(err));
    const files = await writeReportFiles(outDir(id), report);
    return { runId: id, report, files, deadLetters: 0, executions: [] };
  }
}

/** A failure as the operator's one line says it: AWS SDK errors name the local service that failed. */
function localFailure(err: unknown): Error {
  const first = (err instanceof Error ? err.message : String(err)).split('\n')[0] ?? '';
  const sdk = err as { name?: string; $metadata?: unknown };
  if (err instanceof Error && sdk.$metadata !== undefined) {
    // the SDK wraps a failed connection in words of its own; the cause is what the operator needs
    const cause = first.replace(/^AWS SDK error wrapper for (Error: )?/, '');
    const named = sdk.name && sdk.name !== 'Error' ? `${sdk.name}: ` : '';
    return new Error(`the local AWS emulators failed (${named}${cause})`);
  }
  return new Error(first);
}

async function runPipeline(
  options: LocalRunOptions,
  outDir: (runId: string) => string,
): Promise<LocalRunResult> {
  const progress = options.onProgress ?? (() => undefined);
  const emulators = await startEmulators(options.statePath ? { statePath: options.statePath } : {});
  const saved = { ...process.env };
  let stopPoller: (() => Promise<void>) | undefined;
  let stopWatch = () => {};
  const threads: HandlerThread[] = [];
  try {
    Object.assign(process.env, emulators.env);
    const template = synthTemplate();
    // A persistent status table keeps one name; everything else is new for every run.
    const suffix = options.statePath ? 'local' : Math.random().toString(36).slice(2, 8);
    const local = await provision(template, {
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 5,
      suffix,
    });
    const functions = functionsOf(template, local);
    // One process hosts every handler: their variables are the union (names do not collide).
    for (const f of functions) Object.assign(process.env, f.environment);
    // Fonts are copied into the Lambda bundle; here they are read from node_modules.
    delete process.env[NOTE_FONTS_DIR_ENV];
    Object.assign(process.env, {
      [ENV.rateLimitPerMinute]: String(options.rateLimitPerMinute ?? 200),
      [ENV.rateLimitWindowMs]: String(options.rateLimitWindowMs ?? 60_000),
      [ENV.batchSize]: String(options.batchSize ?? 500),
      [ENV.maxTokenWaitMs]: '2000',
      // local queues come back in seconds: a failed write's backoff starts at one
      [ENV.writeRetryBaseSeconds]: '1',
      // one process hosts every writer: the token buckets live in it, not in the status table
      [ENV.rateLimitStore]: 'process',
      // the Cliniko account's lease names this machine as where the run is
      [ENV.leaseWhere]: `${hostname()} (pid ${process.pid})`,
      ...(options.clinikoRetry
        ? {
            [ENV.clinikoMaxAttempts]: String(options.clinikoRetry.maxAttempts),
            [ENV.clinikoRetryBaseMs]: String(options.clinikoRetry.baseDelayMs),
          }
        : {}),
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      S3_OBJECT_TAGGING: 'off',
    });
    // handlers build their clients and logger afresh from this environment
    resetRuntime();
    const onWait = options.onRateLimitWait;
    if (onWait) {
      // Every handler that calls Cliniko runs in this process (only the mappers, which never do,
      // have threads of their own), so their buckets are the runtime's in-process store.
      const timer = setInterval(() => {
        const buckets = runtime().buckets;
        if (buckets instanceof InMemoryBucketStore) onWait(buckets.waiting());
      }, 1000);
      timer.unref();
      stopWatch = () => clearInterval(timer);
    }

    const clinicId = options.clinicId ?? 'local';
    const s3 = new S3Client({ forcePathStyle: true });
    const key = `exports/${clinicId}/${basename(options.exportZip)}`;
    const size = (await stat(options.exportZip)).size;
    // Read in place from disk by the handlers' range requests, never put whole into the emulator.
    emulators.serveFile(local.bucket, key, options.exportZip);
    if (options.configJson)
      await s3.send(
        new PutObjectCommand({
          Bucket: local.bucket,
          Key: keys.config(clinicId),
          Body: await readFile(options.configJson),
        }),
      );
    const prefix = process.env[ENV.secretPrefix] ?? secretPrefix('ClinikoMigrateLocal');
    emulators.secrets.set(`${prefix}${clinicId}`, JSON.stringify(options.credentials));

    // Handlers by logical id, loaded from their sources; the mappers' on a thread of their own,
    // so their work (notes PDFs above all) does not hold up the writers (handler-thread.ts).
    const handlers = new Map<string, Handler>();
    for (const f of functions) {
      if (f.handlerPath.includes('/map-batch/')) {
        const thread = startHandlerThread(f.handlerPath, f.logicalId, f.limits);
        threads.push(thread);
        handlers.set(f.logicalId, (input) => thread.invoke(input));
        continue;
      }
      const mod = (await import(new URL(`../../${f.handlerPath}`, import.meta.url).href)) as {
        handler: Handler;
      };
      handlers.set(f.logicalId, mod.handler);
    }
    const writer = functions.find((f) => f.handlerPath.includes('/write/'));
    const writerHandler = writer ? (handlers.get(writer.logicalId) as WriterHandler) : undefined;
    if (!writer || !writerHandler) throw new Error('the stack has no writer function');
    const [, mapping] = resourcesOf(template, 'AWS::Lambda::EventSourceMapping')[0] ?? [];
    const props = (mapping?.Properties ?? {}) as { BatchSize?: number; FunctionResponseTypes?: string[] };
    const wrapped = options.wrapWriter ? options.wrapWriter(writerHandler) : writerHandler;
    const poller = startPoller({
      queueUrl: local.writeQueueUrl,
      queueArn: String(
        local.refs[
          `${Object.keys(local.refs).find((k) => k.startsWith('WriteQueue') && !k.includes('.'))}.Arn`
        ],
      ),
      batchSize: props.BatchSize ?? 10,
      reportBatchItemFailures: (props.FunctionResponseTypes ?? []).includes('ReportBatchItemFailures'),
      // as on AWS, writers follow the keys (one lane each), never fewer than four here
      concurrency: options.writerConcurrency ?? Math.max(4, options.credentials.apiKeys.length),
      visibilityTimeoutSeconds: options.visibilityTimeoutSeconds ?? 5,
      handler: wrapped as never,
      functionName: writer.logicalId,
      limits: writer.limits,
      ...(options.onWriterInvoke ? { onInvoke: options.onWriterInvoke } : {}),
    });
    stopPoller = () => poller.stop();
    const figures = () => {
      const { longestInvocationMs, ...queue } = poller.figures();
      return {
        longestInvocationMs: { ...invocations.longestMs(), [writer.logicalId]: longestInvocationMs },
        writeQueue: queue,
      };
    };

    const definition = stateMachineDefinition(template, local);
    let runId = '';
    const invocations = new InvocationFigures();
    const byArn = new Map(functions.map((f) => [functionArn(f.logicalId, local), f.logicalId]));
    const overrides: Record<string, (input: unknown) => Promise<unknown>> = {};
    const stateMachineArn = `arn:aws:states:${local.region}:${local.account}:stateMachine:${LOCAL_STACK}`;
    // Steps under way when the run is interrupted: they finish before the emulators stop.
    const stepsInFlight = new Set<Promise<unknown>>();
    let lastPhase: string | undefined;
    let lastLine = '';
    for (const task of taskStates(definition)) {
      // Step Functions' own integrations (the run starting its next execution) run in execution.ts.
      if (!task.resource.includes(':function:')) continue;
      const logicalId = byArn.get(task.resource);
      const handler = logicalId ? handlers.get(logicalId) : undefined;
      if (!handler)
        throw new Error(`state ${task.name} calls ${task.resource}, which is not a local function`);
      const run = options.wrapTask ? options.wrapTask(task.name, handler) : handler;
      // held to the function's timeout as Lambda holds it (function-limits.ts)
      const limits = functions.find((f) => f.logicalId === logicalId)?.limits;
      overrides[task.name] = async (input) => {
        const name = logicalId ?? task.name;
        const step = limits
          ? withinTimeout(name, limits, () => run(input, lambdaContext(name, limits)), invocations)
          : run(input, lambdaContext(name));
        stepsInFlight.add(step);
        const output = await step.finally(() => stepsInFlight.delete(step));
        const checked = task.name.startsWith('Check')
          ? stepOutput(task.name, CheckPhaseOutput, output)
          : undefined;
        if (checked) lastPhase = checked.phase;
        if (checked && options.onStatus) {
          // Cliniko requests so far (all statuses): the operator's rate against the limit.
          const byStatus = await runtime().store.requests(runId);
          const requests = Object.values(byStatus).reduce((n, k) => n + k, 0);
          await options.onStatus({ runId, phase: checked.phase, byEntity: checked.byEntity, requests });
        }
        const line = describe(task.name, input, output);
        // a phase is polled every half second: say only what changed
        if (line && line !== lastLine) progress(line);
        if (line) lastLine = line;
        return output;
      };
    }

    // A redrive runs no execution: the run's dead letters go back to its writers (redrive-local.ts).
    const reportFn = functions.find((f) => f.handlerPath.includes('/report/'));
    const reportHandler = reportFn && handlers.get(reportFn.logicalId);
    if (options.redrive && reportHandler)
      return await redriveLocal({
        redrive: options.redrive,
        clinicId,
        bucket: local.bucket,
        writeQueueUrl: local.writeQueueUrl,
        deadLetterQueueUrl: local.deadLetterQueueUrl,
        report: reportHandler,
        s3,
        dir: outDir(options.redrive.runId),
        stopWriters: () => poller.stop(),
      });

    // Each local run is a new run (on AWS, a new upload is a new object version), unless it
    // resumes one the operator interrupted: then it is that run, under its id.
    const start = runStartFor({ bucket: local.bucket, key, etag: `${size}-${Date.now()}` });
    if (!start) throw new Error(`${key} is not an export key`);
    if (options.resumeRunId && !options.statePath)
      throw new Error('a run is resumed from the status table it wrote: statePath is needed');
    runId = options.resumeRunId ?? start.name;
    progress(
      `Run ${runId} (${options.mode}${options.resumeRunId ? ', resumed' : ''}) on the local pipeline.`,
    );
    await options.onStatus?.({ runId });
    // A phase is checked every half second here, however long the wait AWS would take.
    const executed = await runExecutions({
      definition,
      input: { ...start.input, runId, mode: options.mode, startedBy: process.env.USER ?? 'local user' },
      stateMachineArn,
      name: runId,
      tasks: overrides,
      readItems: async (bucket, key) => {
        const res = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return z
          .array(z.unknown())
          .parse(
            JSON.parse(await (res.Body as { transformToString(): Promise<string> }).transformToString()),
          );
      },
      waitMs: 500,
      retryMs: 200,
      ...(options.meter ? { meter: options.meter } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onExecution: (name) => {
        if (name !== runId) progress(`  the run carries on in execution ${name}`);
      },
    });
    const failure = executed.failure
      ? new Error(`${executed.failure.error}: ${executed.failure.cause}`)
      : undefined;
    if (options.signal?.aborted) {
      // Writes in flight finish and land in the id map; messages not yet taken stay unwritten,
      // and the same command run again maps and queues them anew (what is mapped is skipped).
      await Promise.allSettled([...stepsInFlight]);
      await poller.stop();
      stopPoller = undefined;
      throw new RunInterrupted(runId, await countsSoFar(runId), lastPhase);
    }
    await poller.stop();
    stopPoller = undefined;

    const dir = outDir(runId);
    await mkdir(dir, { recursive: true });
    const files = {
      json: join(dir, 'report.json'),
      csv: join(dir, 'problems.csv'),
      html: join(dir, 'report.html'),
    };
    const fetch = async (file: string) => {
      const res = await s3.send(
        new GetObjectCommand({ Bucket: local.bucket, Key: keys.report(clinicId, runId, file) }),
      );
      return (res.Body as { transformToString(): Promise<string> }).transformToString();
    };
    let reportText: string;
    try {
      reportText = await fetch('report.json');
    } catch {
      // Report itself could not run: the report is written here, so a failed run still has one.
      const report = stoppedRunReport(runId, options, failure);
      const written = await writeReportFiles(dir, report);
      return {
        runId,
        report,
        files: written,
        deadLetters: 0,
        executions: executed.executions,
        limits: figures(),
      };
    }
    await writeFile(files.json, reportText);
    await writeFile(files.csv, await fetch('problems.csv'));
    await writeFile(files.html, await fetch('report.html'));
    // A run stopped by Preflight wrote nothing, and has no audit trail.
    const audit = await fetch('audit.csv').catch(() => undefined);
    if (audit !== undefined) await writeFile(join(dir, 'audit.csv'), audit);
    const { SQSClient, GetQueueAttributesCommand } = await import('@aws-sdk/client-sqs');
    const dlq = await new SQSClient({}).send(
      new GetQueueAttributesCommand({
        QueueUrl: local.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    return {
      runId,
      report: JSON.parse(reportText) as RunReport,
      files,
      deadLetters: Number(dlq.Attributes?.ApproximateNumberOfMessages ?? 0),
      executions: executed.executions,
      limits: figures(),
      // the queues end with the run: its dead letters are handed over for a later redrive
      deadLetterBodies: Number(dlq.Attributes?.ApproximateNumberOfMessages ?? 0)
        ? await drainDeadLetters(local.deadLetterQueueUrl)
        : [],
    };
  } finally {
    stopWatch();
    await stopPoller?.();
    await Promise.all(threads.map((t) => t.stop()));
    await emulators.stop();
    resetRuntime();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
