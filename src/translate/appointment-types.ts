import type * as M from '../core/canonical.js';
import type { RowResult } from '../core/problem.js';
import { parseWholeNumber } from '../core/values.js';
import type { SourceRow } from '../source/csv.js';
import type { RowContext } from './row-context.js';
import { compact, readRow } from './row-reader.js';

/**
 * An AppointmentTypes.csv row → an appointment type: a bad duration or colour is reported and the
 * default used (docs/EXPORT-FORMAT.md).
 */
export function buildAppointmentType(row: SourceRow, ctx: RowContext): RowResult<M.AppointmentType> {
  const { p, v, required, optional, bool, sourceId } = readRow(ctx, row, 'AppointmentTypeId');
  required('AppointmentTypeId');
  const name = required('Name');
  let durationMinutes: number | undefined;
  if (v.DurationMinutes) {
    const parsed = parseWholeNumber(v.DurationMinutes, 0, 1440);
    if (parsed.ok) durationMinutes = parsed.value;
    else
      p.warn('DurationMinutes', 'INVALID_DURATION', `DurationMinutes ${parsed.reason}; the default is used`);
  }
  let colour = optional('Colour');
  if (colour && !/^#?[0-9A-Fa-f]{6}$/.test(colour)) {
    p.warn('Colour', 'INVALID_COLOUR', `Colour "${colour}" is not #RRGGBB; the default is used`);
    colour = undefined;
  }
  if (colour && !colour.startsWith('#')) colour = `#${colour}`;
  const record = compact({
    sourceId,
    name,
    durationMinutes,
    category: optional('Category'),
    colour,
    description: optional('Description'),
    inactive: bool('Inactive') ?? false,
  });
  return p.result(p.invalid ? undefined : record);
}
