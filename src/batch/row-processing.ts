import type { AppointmentTypeBody, ContactBody } from '../cliniko/schemas.js';
import type * as M from '../core/canonical.js';
import type { EntityKey } from '../core/entities.js';
import type { Problem, RowResult } from '../core/problem.js';
import {
  type IdLookup,
  type MappingIssue,
  mapAppointmentType,
  mapContact,
  mapPatient,
  type PatientPlan,
} from '../mapping/cliniko-bodies.js';
import type { SourceRow } from '../source/csv.js';
import * as B from '../translate/builders.js';

/**
 * What happens to one source row, wherever it runs: the builder gives its outcome and canonical
 * record, then the Cliniko mapping is checked (a value over a limit can still make it invalid).
 * The in-process dry run and the pipeline's mapper Lambdas both call this.
 */
export type PlannedRecord =
  | { entity: 'appointmentTypes'; record: M.AppointmentType }
  | { entity: 'contacts'; record: M.Contact }
  | { entity: 'patients'; record: M.Patient }
  | { entity: 'appointments'; record: M.Appointment }
  | { entity: 'clinicalNotes'; record: M.ClinicalNote }
  | { entity: 'letters' | 'fileUploads'; record: M.Document };

/** The transferable tables, in the order their phases run (parents before children). */
export const TABLES = [
  { table: 'appointmentTypes', entity: 'appointmentTypes', phase: 'setup' },
  { table: 'employers', entity: 'contacts', phase: 'setup' },
  { table: 'referrers', entity: 'contacts', phase: 'setup' },
  { table: 'debtors', entity: 'contacts', phase: 'setup' },
  { table: 'clients', entity: 'patients', phase: 'patients' },
  { table: 'appointments', entity: 'appointments', phase: 'appointments' },
  { table: 'clinicalNotes', entity: 'clinicalNotes', phase: 'documents' },
  { table: 'letters', entity: 'letters', phase: 'documents' },
  { table: 'uploads', entity: 'fileUploads', phase: 'documents' },
] as const satisfies readonly { table: string; entity: EntityKey; phase: string }[];

export type TableName = (typeof TABLES)[number]['table'];
export const PHASES = ['setup', 'patients', 'appointments', 'documents'] as const;
export type Phase = (typeof PHASES)[number];

export function tableInfo(table: string): (typeof TABLES)[number] {
  const info = TABLES.find((t) => t.table === table);
  if (!info) throw new Error(`unknown table ${table}`);
  return info;
}

function build(table: TableName, row: SourceRow, ctx: B.RowContext): RowResult<PlannedRecord['record']> {
  switch (table) {
    case 'appointmentTypes':
      return B.buildAppointmentType(row, ctx);
    case 'employers':
      return B.buildContact('employer', row, ctx);
    case 'referrers':
      return B.buildContact('referrer', row, ctx);
    case 'debtors':
      return B.buildContact('debtor', row, ctx);
    case 'clients':
      return B.buildPatient(row, ctx);
    case 'appointments':
      return B.buildAppointment(row, ctx);
    case 'clinicalNotes':
      return B.buildClinicalNote(row, ctx);
    case 'letters':
      return B.buildDocument('letter', row, ctx);
    case 'uploads':
      return B.buildDocument('upload', row, ctx);
  }
}

/**
 * How a patient's references to other records become Cliniko ids: a live run's id map, or
 * placeholders (`contacts:R1`) where nothing is written. The issues found never depend on them.
 */
export interface MappingIds {
  readonly ids: IdLookup;
  /** Whether a referrer is a doctor (Cliniko contact type 1): a patient's referring doctor. */
  readonly isDoctor: (referrerSourceId: string) => boolean;
}

/** Placeholder ids: what a dry run (or Plan) maps with. */
export const PLACEHOLDER_IDS: MappingIds = { ids: (e, id) => `${e}:${id}`, isDoctor: () => false };

/** The Cliniko body a record maps to (patients, contacts and types are mapped before any id is known). */
export type MappedBody =
  | { entity: 'patients'; body: PatientPlan }
  | { entity: 'contacts'; body: ContactBody }
  | { entity: 'appointmentTypes'; body: AppointmentTypeBody & { name: string } };

/** What Cliniko would refuse or lose, found before anything is sent, with the body it maps to. */
function mapRecord(
  planned: PlannedRecord,
  mapping: MappingIds,
): { issues: readonly MappingIssue[]; mapped?: MappedBody } {
  switch (planned.entity) {
    case 'patients': {
      const { body, issues } = mapPatient(planned.record, mapping.ids, mapping.isDoctor);
      return { issues, ...(body ? { mapped: { entity: 'patients', body } } : {}) };
    }
    case 'contacts': {
      const { body, issues } = mapContact(planned.record);
      return { issues, ...(body ? { mapped: { entity: 'contacts', body } } : {}) };
    }
    case 'appointmentTypes': {
      const { body, issues } = mapAppointmentType(planned.record);
      return { issues, ...(body ? { mapped: { entity: 'appointmentTypes', body } } : {}) };
    }
    default:
      return { issues: [] };
  }
}

export interface ProcessedRow {
  readonly result: RowResult<PlannedRecord['record']>;
  readonly planned?: PlannedRecord;
  /** The Cliniko body of a planned patient, contact or appointment type (mapped once). */
  readonly mapped?: MappedBody;
}

/**
 * One source row → its outcome, canonical record and (for patients, contacts and types) its Cliniko
 * body, mapped once with `mapping`'s ids. A mapping error (a required value over a Cliniko limit,
 * Cliniko's API documentation) makes the row invalid; warnings are added to its problems.
 */
export function processRow(
  table: TableName,
  row: SourceRow,
  ctx: B.RowContext,
  mapping: MappingIds = PLACEHOLDER_IDS,
): ProcessedRow {
  const entity = tableInfo(table).entity;
  const result = build(table, row, ctx);
  if (result.record === undefined || result.outcome !== 'planned') return { result };
  const planned = { entity, record: result.record } as PlannedRecord;
  const { issues, mapped } = mapRecord(planned, mapping);
  const withBody = mapped ? { mapped } : {};
  if (!issues.length) return { result, planned, ...withBody };
  const sourceId = (result.record as { sourceId: string }).sourceId;
  const extra: Problem[] = issues.map((i) => ({ entity, sourceId, file: ctx.file, row: row.row, ...i }));
  if (issues.some((i) => i.severity === 'error'))
    return { result: { outcome: 'invalid', problems: [...result.problems, ...extra] } };
  return { result: { ...result, problems: [...result.problems, ...extra] }, planned, ...withBody };
}
