import type { Context, SQSEvent } from 'aws-lambda';
import type { RateLimitWait } from '../../src/cliniko/rate-limiter.js';
import type { LimitsMeter } from '../../src/core/aws-limits.js';
import type { RunMode } from '../../src/ports/runs.js';
import type { ClinikoCredentials } from '../../src/ports/secrets.js';
import type { RunReport } from '../../src/report/run-report.js';
import type { ExecutionFigures } from './execution.js';

/** What runLocal (run-local.ts) takes, reports and returns; apart so its helpers share them without a cycle. */
export interface LocalRunOptions {
  /** The export as a zip (folders are zipped first by the caller). */
  readonly exportZip: string;
  readonly configJson?: string;
  readonly mode: RunMode;
  readonly clinicId?: string;
  readonly credentials: ClinikoCredentials;
  /** Requests per minute per Cliniko user the writers hold to. */
  readonly rateLimitPerMinute?: number;
  readonly rateLimitWindowMs?: number;
  readonly writerConcurrency?: number;
  readonly batchSize?: number;
  /** Seconds before an unfinished SQS message comes back (local queues are quick). */
  readonly visibilityTimeoutSeconds?: number;
  readonly onProgress?: (line: string) => void;
  /** Structured progress: the run's id once it starts, then each phase's per-entity counts. */
  readonly onStatus?: (status: LocalRunStatus) => void | Promise<void>;
  /**
   * Called about every second while the pipeline runs with how the rate limit holds its Cliniko
   * requests back (`undefined`: Cliniko last answered them), read from the token buckets the
   * run's handlers share in this process: a quiet run can say it is waiting, not hung (issue 23).
   */
  readonly onRateLimitWait?: (wait: RateLimitWait | undefined) => void;
  /** Called with every writer invocation's duration and record count. */
  readonly onWriterInvoke?: (ms: number, records: number) => void;
  /** Wraps the writer handler (tests crash it between Cliniko's answer and the status write). */
  readonly wrapWriter?: (handler: WriterHandler) => WriterHandler;
  /** Wraps the handler of a task state by its name (tests make a step throw). */
  readonly wrapTask?: (state: string, handler: Handler) => Handler;
  /** Where the status table is kept between runs (the clinic's id map lives there). */
  readonly statePath?: string;
  /** Writer retries of transient Cliniko failures (shortened in tests). */
  readonly clinikoRetry?: { readonly maxAttempts: number; readonly baseDelayMs: number };
  /**
   * Stops the run (Ctrl-C): no new step starts and no new message is taken, the steps and writes
   * in flight finish (so every record Cliniko received is in the id map), then runLocal rejects
   * with {@link RunInterrupted} carrying the counts so far.
   */
  readonly signal?: AbortSignal;
  /**
   * Receives the run's measured figures beside AWS's limits (history events per execution, largest
   * state payload, …): other parts of the local runtime feed theirs into the same meter.
   */
  readonly meter?: LimitsMeter;
  /**
   * Re-sends a finished run's dead-lettered commands (`runId`, `bodies` as its result gave them)
   * instead of starting a run, then makes its report again (redrive-local.ts).
   */
  readonly redrive?: { readonly runId: string; readonly bodies: readonly string[] };
  /**
   * Resumes this interrupted run instead of starting a new one (issue 23): the pipeline runs again
   * under the same run id, so the id map's entries of the run count as its own (`created`), its
   * write ledger, report and rollback cover both parts, and Preflight keeps the run's start time.
   * Needs `statePath` (the status table the run's first part wrote).
   */
  readonly resumeRunId?: string;
}

/**
 * A run stopped by its `signal` after its in-flight writes finished. `byEntity` is, per entity,
 * records written (or refused) of those queued, read from the status table after the writers
 * stopped; `phase` is the last phase a check reported.
 */
export class RunInterrupted extends Error {
  override name = 'RunInterrupted';
  constructor(
    readonly runId: string,
    readonly byEntity: Record<string, { enqueued: number; finished: number }>,
    readonly phase: string | undefined,
  ) {
    super(`run ${runId || '(not started)'} was interrupted`);
  }
}

export interface LocalRunStatus {
  readonly runId: string;
  readonly phase?: string;
  readonly byEntity?: Record<string, { readonly enqueued: number; readonly finished: number }>;
  /** Cliniko requests the run has made so far, every status counted. */
  readonly requests?: number;
}

export type WriterHandler = (event: SQSEvent, context: Context) => Promise<unknown>;

export interface LocalRunResult {
  readonly runId: string;
  readonly report: RunReport;
  readonly files: Record<'json' | 'csv' | 'html', string>;
  readonly deadLetters: number;
  /** The run's executions (more than one when it carried on in fresh ones), with their history. */
  readonly executions: readonly ExecutionFigures[];
  /** The run's figures against AWS's limits: each function's longest invocation, the largest message and batch the writers received. */
  readonly limits?: LocalLimitFigures;
  /** The run's dead-lettered message bodies, taken out of its queue before the queue ended. */
  readonly deadLetterBodies?: readonly string[];
}

export interface LocalLimitFigures {
  /** Milliseconds, by the function's logical id. */
  readonly longestInvocationMs: Record<string, number>;
  /** Bytes and records, as the writers' event source received them. */
  readonly writeQueue: {
    readonly largestMessageBytes: number;
    readonly largestBatchBytes: number;
    readonly largestBatchRecords: number;
  };
}

export type Handler = (event: unknown, context: Context) => Promise<unknown>;
