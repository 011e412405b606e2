import type * as M from '../core/canonical.js';
import type { RowResult } from '../core/problem.js';
import { formatDate } from '../core/values.js';
import type { SourceRow } from '../source/csv.js';
import type { RowContext } from './row-context.js';
import { checkParent } from './row-problems.js';
import { compact, readRow } from './row-reader.js';

/** A ClinicalNotes.csv row → a clinical note: its extra columns are its sections, in order. */
export function buildClinicalNote(row: SourceRow, ctx: RowContext): RowResult<M.ClinicalNote> {
  const { p, required, optional, dateTime, sourceId, extra } = readRow(ctx, row, 'NoteId');
  required('NoteId');
  const clientId = required('ClientId');
  // NoteDate is a date-time column: its time, when there is one, orders a day's notes.
  const at = dateTime('NoteDate', true);
  const day = at?.date;
  checkParent(p, ctx, clientId);
  const sections = extra.filter((s) => s.value !== '').map((s) => ({ title: s.header, text: s.value }));
  if (p.invalid || !day) return p.result<M.ClinicalNote>(undefined);
  const record = compact({
    sourceId,
    patientSourceId: clientId,
    date: formatDate(day),
    time: at?.time,
    practitionerSourceId: optional('PractitionerId'),
    appointmentSourceId: optional('AppointmentId'),
    noteType: optional('NoteType'),
    assessmentType: optional('AssessmentType'),
    sections,
  });
  return p.result(record);
}
