import { z } from 'zod';

/** One problem with a source row or file, as report.json and problems.csv list it. */
export const Severity = z.enum(['error', 'warning', 'info']);
export type Severity = z.output<typeof Severity>;

export const Problem = z.object({
  entity: z.string(),
  sourceId: z.string(),
  file: z.string(),
  row: z.number(),
  field: z.string(),
  code: z.string(),
  severity: Severity,
  message: z.string(),
  /** The client a child row (appointment, note, document) belongs to: its ClientId, an id only. */
  clientSourceId: z.string().optional(),
  /**
   * Who the row is about as the clinic reads it, `Jane Citizen (C9)`: set only when the report is
   * written (report.json, problems.csv), read from the export then; never in a step's stored problems.
   */
  patient: z.string().optional(),
});
export type Problem = Readonly<z.output<typeof Problem>>;
/** A step's problems as it leaves them in the bucket. */
export const Problems = z.array(Problem);

/** The outcome of a source row, before anything is written. */
export type RowOutcome = 'planned' | 'skipped' | 'invalid';

export interface RowResult<T> {
  readonly outcome: RowOutcome;
  readonly record?: T;
  readonly problems: readonly Problem[];
}

const SEVERITY_ORDER: Readonly<Record<Severity, number>> = { error: 0, warning: 1, info: 2 };

/**
 * Problems in the order a person works through them (issue 26): errors, then warnings, then
 * notes; within a severity by file (the run's own problems, with no file, first) and row, and
 * otherwise as they were found. Returns a new array; the input is not changed.
 */
export function sortProblems<P extends Problem>(problems: readonly P[]): P[] {
  // Array.prototype.sort is stable: problems equal in all three keep the order they were found in.
  return [...problems].sort(
    (a, b) =>
      SEVERITY_ORDER[a.severity] - SEVERITY_ORDER[b.severity] ||
      (a.file < b.file ? -1 : a.file > b.file ? 1 : 0) ||
      a.row - b.row,
  );
}
