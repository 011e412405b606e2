/**
 * Row builders: one source row in, one canonical record (or none) out, with the row's outcome and
 * every problem found, following the row outcomes of docs/EXPORT-FORMAT.md ("What happens to each
 * row") exactly. One file per entity (clinic.ts: locations and practitioners; appointment-types,
 * contacts, patients, appointments, clinical-notes, documents); row-reader.ts reads a row's values,
 * row-problems.ts collects its problems, and row-context.ts says what a builder knows about other
 * tables (`References`). They are pure, so the same code runs in one process over a whole export or
 * in a Lambda over one batch.
 */
export { buildAppointmentType } from './appointment-types.js';
export { buildAppointment, cancellationCode } from './appointments.js';
export { buildLocation, buildPractitioner } from './clinic.js';
export { buildClinicalNote } from './clinical-notes.js';
export { buildContact } from './contacts.js';
export { buildDocument, contentTypeFor } from './documents.js';
export { buildPatient } from './patients.js';
export type { LocationRef, PractitionerRef, References, RowContext } from './row-context.js';
export { spreadsheetDamage } from './row-reader.js';
