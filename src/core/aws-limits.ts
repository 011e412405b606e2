/**
 * AWS's hard limits the pipeline must stay inside, in one place: the local runtime enforces them
 * where AWS would (apps/local), and the aws-limits bench prints each measured figure beside its
 * limit. Each engineer adds the limits of the service they enforce here, with their source.
 */
export const AWS_LIMITS = {
  stepFunctions: {
    /**
     * History events of one Standard execution (Distributed Map children count in their own child
     * executions). Past it the execution fails, uncatchably (States.Runtime).
     * Source: Step Functions service quotas, "Maximum execution history size", hard quota.
     */
    historyEventsPerExecution: 25_000,
    /**
     * Bytes (UTF-8) of a state's input or output, a task's input or result, and an execution's
     * input: past it the state fails with States.DataLimitExceeded, which States.ALL cannot catch.
     * Source: Step Functions service quotas, "Maximum input or output size for a task, state, or
     * execution" (256 KiB), hard quota; error handling, "States.DataLimitExceeded".
     */
    payloadBytes: 256 * 1024,
    /** Characters of an execution's name. Source: Step Functions service quotas, naming. */
    executionNameChars: 80,
  },
} as const;

/** AWS's error names for a crossed limit (Step Functions error handling, "Error names"). */
export const AWS_LIMIT_ERRORS = {
  dataLimitExceeded: 'States.DataLimitExceeded',
  runtime: 'States.Runtime',
} as const;

/** One measured figure beside the AWS limit it must stay inside. */
export interface LimitFigure {
  /** What is measured, e.g. "history events per execution". */
  readonly name: string;
  /** The largest value seen, in `unit`. */
  readonly value: number;
  /** AWS's limit, in `unit`. */
  readonly limit: number;
  readonly unit: string;
  /** Where the largest value was seen (a state, an execution, a function): no data of a patient. */
  readonly where?: string;
}

/**
 * Keeps the largest value of each measured figure of a run (history events per execution,
 * largest state payload, and what other parts of the runtime feed in: largest item, message,
 * batch, longest invocation…), so a bench or test can print or assert them. Values are in the
 * unit of their limit; `record` keeps the maximum per name.
 */
export class LimitsMeter {
  private readonly figures = new Map<string, LimitFigure>();

  record(name: string, value: number, limit: number, unit: string, where?: string): void {
    const seen = this.figures.get(name);
    if (seen && seen.value >= value) return;
    this.figures.set(name, { name, value, limit, unit, ...(where ? { where } : {}) });
  }

  /** A counter (not a maximum): adds `by` to the figure. */
  add(name: string, by: number, unit: string): void {
    const seen = this.figures.get(name);
    this.figures.set(name, { name, value: (seen?.value ?? 0) + by, limit: Number.POSITIVE_INFINITY, unit });
  }

  get(name: string): LimitFigure | undefined {
    return this.figures.get(name);
  }

  all(): LimitFigure[] {
    return [...this.figures.values()];
  }
}

/** Bytes of a JSON value as Step Functions counts a payload: its JSON text in UTF-8. */
export function payloadBytes(value: unknown): number {
  return Buffer.byteLength(JSON.stringify(value ?? null), 'utf8');
}

/**
 * SQS: a message body at most the queue's MaximumMessageSize (the stack declares 256 KiB, 262,144
 * bytes, UTF-8: SQS's limit until August 2025 and still its default on queues made before; the
 * quota is now 1 MiB); the bodies of one SendMessageBatch at most 1 MiB together; at most 10
 * entries a batch; DelaySeconds at most 900; a visibility timeout at most 12 h. Source: Amazon SQS
 * Developer Guide, "Amazon SQS message quotas" and "Amazon SQS batch actions" (2026).
 */
export const SQS_LIMITS = {
  maxMessageBytes: 262_144,
  maxBatchBytes: 1_048_576,
  maxBatchEntries: 10,
  maxDelaySeconds: 900,
  maxVisibilityTimeoutSeconds: 43_200,
} as const;

/** The error codes SQS answers when a message or a batch crosses those limits. */
export const SQS_ERRORS = {
  /** A message (SendMessage) longer than `maxMessageBytes`: `InvalidParameterValue`. */
  messageTooLong: 'InvalidParameterValue',
  /** The bodies of a SendMessageBatch together longer than `maxBatchBytes`. */
  batchTooLong: 'BatchRequestTooLong',
  /** More than `maxBatchEntries` entries in one batch. */
  tooManyEntries: 'TooManyEntriesInBatchRequest',
} as const;

/**
 * Lambda: a function runs at most 15 minutes (900 s) and has 128–10,240 MB of memory. Source: AWS
 * Lambda Developer Guide, "Lambda quotas" (2026).
 */
export const LAMBDA_LIMITS = {
  maxTimeoutSeconds: 900,
  minMemoryMb: 128,
  maxMemoryMb: 10_240,
} as const;

/**
 * What an invocation that crosses its function's limits fails with. Step Functions shows a task
 * whose function timed out as error `Sandbox.Timedout` with cause "Task timed out after N.NN
 * seconds" (Lambda's function error); one that ran out of memory as `Runtime.OutOfMemory`.
 */
export const LAMBDA_ERRORS = {
  timedOut: 'Sandbox.Timedout',
  outOfMemory: 'Runtime.OutOfMemory',
} as const;

/** Lambda's message for a function that ran past its timeout (seconds as Lambda prints them). */
export const timedOutMessage = (timeoutSeconds: number) =>
  `Task timed out after ${timeoutSeconds.toFixed(2)} seconds`;

/** Bytes of a string as SQS counts them (UTF-8). */
export const utf8Bytes = (text: string) => Buffer.byteLength(text, 'utf8');
