import type { Problem, RowResult, Severity } from '../core/problem.js';
import type { SourceRow } from '../source/csv.js';
import type { RowContext } from './row-context.js';

/** Collects a row's problems and decides its outcome: any error makes it invalid. */
export class RowProblems {
  readonly list: Problem[] = [];
  private skippedBy: string | undefined;

  constructor(
    private readonly ctx: RowContext,
    private readonly row: SourceRow,
    private readonly sourceId: string,
  ) {}

  /** Adds a problem on `field` (its code as docs/REPORT.md lists it); any error makes the row invalid. */
  add(severity: Severity, field: string, code: string, message: string): void {
    // A child row's client, so the report can name who it is about (issue 26); ids only.
    const client = this.ctx.entity === 'patients' ? '' : (this.row.values.ClientId ?? '');
    this.list.push({
      entity: this.ctx.entity,
      sourceId: this.sourceId,
      file: this.ctx.file,
      row: this.row.row,
      field,
      code,
      severity,
      message,
      ...(client ? { clientSourceId: client } : {}),
    });
  }
  error(field: string, code: string, message: string): void {
    this.add('error', field, code, message);
  }
  warn(field: string, code: string, message: string): void {
    this.add('warning', field, code, message);
  }
  skip(field: string, code: string, message: string): void {
    this.skippedBy ??= code;
    this.add('info', field, code, message);
  }

  get invalid(): boolean {
    return this.list.some((p) => p.severity === 'error');
  }

  /** The row's result: invalid (an error, or no record), skipped (a skip), else planned with its record. */
  result<T>(record: T | undefined): RowResult<T> {
    if (this.invalid || record === undefined) return { outcome: 'invalid', problems: this.list };
    if (this.skippedBy) return { outcome: 'skipped', problems: this.list };
    return { outcome: 'planned', record, problems: this.list };
  }
}

/** Checks a child row's client: missing or invalid makes it invalid, skipped makes it skipped. */
export function checkParent(p: RowProblems, ctx: RowContext, clientId: string): void {
  if (!clientId) return;
  const parent = ctx.refs.patient(clientId);
  if (parent === undefined)
    p.error('ClientId', 'PARENT_MISSING', `ClientId ${clientId} is not in Clients.csv`);
  else if (parent === 'invalid')
    p.error('ClientId', 'PARENT_INVALID', `client ${clientId} is invalid, so this row cannot be written`);
  else if (parent === 'skipped')
    p.skip('ClientId', 'PARENT_SKIPPED', `client ${clientId} is skipped, so this row is too`);
}
