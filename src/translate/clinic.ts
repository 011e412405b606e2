import type * as M from '../core/canonical.js';
import type { RowResult } from '../core/problem.js';
import type { SourceRow } from '../source/csv.js';
import type { RowContext } from './row-context.js';
import { compact, readRow } from './row-reader.js';

/** A Locations.csv row → a location (a Cliniko business is matched to it by the configuration). */
export function buildLocation(row: SourceRow, ctx: RowContext): RowResult<M.Location> {
  const { p, required, optional, bool, sourceId } = readRow(ctx, row, 'LocationId');
  required('LocationId');
  const name = required('Name');
  const timeZone = optional('TimeZone');
  const record = compact({ sourceId, name, timeZone, inactive: bool('Inactive') ?? false });
  return p.result(p.invalid ? undefined : record);
}

/** A Practitioners.csv row → a practitioner (matched to a Cliniko practitioner, never created). */
export function buildPractitioner(row: SourceRow, ctx: RowContext): RowResult<M.Practitioner> {
  const { p, required, optional, bool, sourceId } = readRow(ctx, row, 'PractitionerId');
  required('PractitionerId');
  const record = compact({
    sourceId,
    firstName: required('FirstName'),
    lastName: required('LastName'),
    title: optional('Title'),
    inactive: bool('Inactive') ?? false,
  });
  return p.result(p.invalid ? undefined : record);
}
