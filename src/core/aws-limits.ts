/**
 * AWS's hard limits the pipeline must stay inside, in one place: the deployed stack is sized from
 * them and the local runtime enforces them (the emulators do not), failing where AWS would fail,
 * with the error name AWS gives.
 */

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
