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
