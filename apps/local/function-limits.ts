import { LAMBDA_ERRORS, timedOutMessage } from '../../src/core/aws-limits.js';

/**
 * A function's configured limits as the stack declares them (the template's Timeout and
 * MemorySize; Lambda's defaults, 3 s and 128 MB, when absent), and the local runtime's enforcement
 * of the timeout: the emulators run a handler as long as it likes, AWS stops it.
 */
export interface FunctionLimits {
  /** The function's Timeout, in seconds. */
  readonly timeoutSeconds: number;
  /** The function's MemorySize, in MB. */
  readonly memoryMb: number;
}

/** An invocation that crossed its function's limits, named as Lambda names it to Step Functions. */
export class LambdaLimitError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/** The longest invocation of each function so far, in milliseconds (a bench prints them beside the timeouts). */
export class InvocationFigures {
  private readonly longest = new Map<string, number>();

  record(functionName: string, ms: number): void {
    this.longest.set(functionName, Math.max(this.longest.get(functionName) ?? 0, ms));
  }

  /** Longest invocation in milliseconds by function name. */
  longestMs(): Record<string, number> {
    return Object.fromEntries(this.longest);
  }
}

/**
 * Runs `invoke` as Lambda would under `limits.timeoutSeconds`: when it has not settled by then the
 * invocation fails with `Sandbox.Timedout` and "Task timed out after N.NN seconds", what Step
 * Functions and the SQS event source see on AWS. The handler's own work cannot be stopped in this
 * process (on AWS its sandbox is frozen): it runs on, its result ignored. Records the
 * invocation's duration in `figures` under `functionName`.
 */
export async function withinTimeout<T>(
  functionName: string,
  limits: Pick<FunctionLimits, 'timeoutSeconds'>,
  invoke: () => Promise<T>,
  figures?: InvocationFigures,
): Promise<T> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new LambdaLimitError(LAMBDA_ERRORS.timedOut, timedOutMessage(limits.timeoutSeconds))),
      limits.timeoutSeconds * 1000,
    );
  });
  const running = invoke();
  // a handler that fails after its timeout has no one left to tell
  running.catch(() => undefined);
  try {
    return await Promise.race([running, timedOut]);
  } finally {
    clearTimeout(timer);
    figures?.record(functionName, performance.now() - started);
  }
}
