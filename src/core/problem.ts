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
