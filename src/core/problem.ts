/** One problem with a source row or file, as report.json and problems.csv list it. */
export type Severity = 'error' | 'warning' | 'info';

export interface Problem {
  readonly entity: string;
  readonly sourceId: string;
  readonly file: string;
  readonly row: number;
  readonly field: string;
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
}

/** The outcome of a source row, before anything is written. */
export type RowOutcome = 'planned' | 'skipped' | 'invalid';

export interface RowResult<T> {
  readonly outcome: RowOutcome;
  readonly record?: T;
  readonly problems: readonly Problem[];
}
