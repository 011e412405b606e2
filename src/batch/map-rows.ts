import { nativeNotes } from '../config/migration-config.js';
import type { EntityKey } from '../core/entities.js';
import type { Problem } from '../core/problem.js';
import type { DateOrderEvidence, LocalDate } from '../core/values.js';
import { noteGlyphProblems } from '../documents/note-bundles.js';
import { attachmentDescription } from '../mapping/attachment-description.js';
import type { RecordOutcome } from '../ports/outcomes.js';
import type { DuplicateIndex } from '../reconcile/duplicates.js';
import type { AidCollector } from '../report/approval-aids.js';
import type { SourceRow } from '../source/csv.js';
import type { SourceProfile } from '../source/profile.js';
import type { References } from '../translate/builders.js';
import { authorDecision, type NotesRun, type PendingNote, type PlannedWrite } from './native-notes.js';
import { contactKey, contentHash, type PayloadRun, payloadFor, type WrittenIds } from './payload.js';
import { probableDuplicate } from './probable-duplicate.js';
import {
  type MappedBody,
  type MappingIds,
  PLACEHOLDER_IDS,
  type PlannedRecord,
  processRow,
  type TableName,
  tableInfo,
} from './row-processing.js';

/**
 * The one batch core (issue 12): a table's rows → outcome → approval aids → payload, each row
 * mapped once. The dry run's scan and the pipeline's MapBatch both call it, so what a dry run
 * promises is what the live run does, minus the writes. Pure: it reads nothing and writes
 * nothing; the caller gives it what the rows refer to and stores (or only counts) what it returns.
 */
export interface BatchRun extends PayloadRun, NotesRun {
  /** The zone of appointments without a (known) location (IANA name): the aids' business zone. */
  readonly defaultTimeZone: string;
}

export interface MapRowsInput {
  readonly table: TableName;
  /** The table's file in the export, as problems name it. */
  readonly file: string;
  readonly rows: readonly SourceRow[];
  readonly profile: SourceProfile;
  readonly run: BatchRun;
  readonly refs: References;
  /**
   * Day-month evidence of the export's dates, gathered across batches (docs/EXPORT-FORMAT.md, CSV
   * conventions).
   */
  readonly evidence: DateOrderEvidence;
  readonly exportDate?: LocalDate;
  /** Where the batch's approval aids are gathered (samples and counts). */
  readonly aids: AidCollector;
  /**
   * The account's patients (docs/CONFIGURATION.md, `existingPatients`); `written`: the id map holds
   * the patient.
   */
  readonly duplicates?: { readonly index: DuplicateIndex; readonly written: (sourceId: string) => boolean };
  /** A live run's Cliniko ids of parents: payloads are built. Absent (a dry run): nothing is. */
  readonly written?: WrittenIds;
}

/** One row as the batch decided it: `planned` when its record goes on (a write in a live run). */
export interface MappedRow {
  readonly row: number;
  /** The row's key column as exported ('' when empty). */
  readonly key: string;
  readonly outcome: 'planned' | 'skipped' | 'invalid' | 'failed';
  readonly planned?: PlannedRecord;
  /**
   * A dry run's planned row, for its settle (write-decision.ts): the body it was mapped to (the
   * natural key reconciliation finds it by) and the account's patient it links to, if any.
   */
  readonly dry?: {
    readonly sourceId: string;
    readonly hash: string;
    readonly mapped?: MappedBody;
    readonly link?: { readonly clinikoId: string };
  };
}

/** Counts of one batch's rows (BatchCounts without the entity). */
export interface RowCounts {
  source: number;
  planned: number;
  skipped: number;
  invalid: number;
  enqueued: number;
  failed: number;
}

export interface MappedBatch {
  readonly entity: EntityKey;
  readonly rows: MappedRow[];
  /** One per row with a key; a live note's waits in `notes` until it is bundled or written natively. */
  readonly outcomes: RecordOutcome[];
  readonly problems: Problem[];
  readonly counts: RowCounts;
  /** A live run's writes, in row order. */
  readonly writes: PlannedWrite[];
  /** A live run's notes, planned, for the caller to bundle into PDFs or write natively. */
  readonly notes: PendingNote[];
}

const DOCUMENT_FIELD: Partial<Record<EntityKey, string>> = { letters: 'Subject', fileUploads: 'Description' };

export function mapRows(input: MapRowsInput): MappedBatch {
  const { table, file, run, aids } = input;
  const entity = tableInfo(table).entity;
  const out: MappedBatch = {
    entity,
    rows: [],
    outcomes: [],
    problems: [],
    counts: { source: 0, planned: 0, skipped: 0, invalid: 0, enqueued: 0, failed: 0 },
    writes: [],
    notes: [],
  };
  const ctx = {
    file,
    entity,
    profile: input.profile,
    config: run.config,
    refs: input.refs,
    evidence: input.evidence,
    ...(input.exportDate ? { exportDate: input.exportDate } : {}),
  };
  const written = input.written;
  const mapping: MappingIds = written
    ? { ids: (_e, id) => written.referrer(id), isDoctor: (id) => written.isDoctor(id) }
    : PLACEHOLDER_IDS;
  const zoneOf = (loc: string | undefined) =>
    (loc ? run.locations[loc]?.timeZone : undefined) ?? run.defaultTimeZone;
  const keyColumn = input.profile.tables.find((t) => t.name === table)?.key ?? '';
  const checkAuthors =
    !written && run.keyPractitioners !== undefined && nativeNotes(run.config.clinicalNotes);

  for (const row of input.rows) {
    out.counts.source++;
    const { result, planned, mapped } = processRow(table, row, ctx, mapping);
    out.problems.push(...result.problems);
    if (planned?.entity === 'clinicalNotes')
      out.problems.push(...noteGlyphProblems(planned.record, file, row.row));
    if (entity === 'patients')
      aids.client(row, file, result.outcome, mapped?.entity === 'patients' ? mapped.body : undefined);
    if (planned?.entity === 'appointments')
      aids.appointment(planned.record, zoneOf(planned.record.locationSourceId));
    else if (planned?.entity === 'clinicalNotes') aids.note(planned.record, row.row);
    else if (planned?.entity === 'letters' || planned?.entity === 'fileUploads')
      aids.document(planned.record);
    const key = row.values[keyColumn] ?? '';
    const sourceId = entity === 'contacts' ? contactKey(table.replace(/s$/, ''), key) : key;
    // A child row's client id goes with its outcome and problems: the report names who it is about.
    const client = entity === 'patients' ? '' : (row.values.ClientId ?? '');
    const at = { entity, sourceId, file, row: row.row, ...(client ? { clientSourceId: client } : {}) };
    const settle = (outcome: MappedRow['outcome'], reason: string, extra: Partial<RecordOutcome> = {}) => {
      out.counts[outcome]++;
      out.rows.push({ row: row.row, key, outcome });
      if (key) out.outcomes.push({ ...at, outcome, reason, ...extra });
    };
    if (!planned) {
      const outcome = result.outcome === 'skipped' ? 'skipped' : 'invalid';
      settle(outcome, result.problems.find((p) => p.severity !== 'warning')?.code ?? '');
      continue;
    }
    let link: { clinikoId: string; setReference: boolean } | undefined;
    if (planned.entity === 'patients' && input.duplicates) {
      const { index, written: has } = input.duplicates;
      const held = probableDuplicate(
        planned.record,
        run.config.existingPatients,
        index,
        has(sourceId),
        file,
        row.row,
      );
      if (held) out.problems.push(held.problem);
      if (held?.hold) {
        settle('skipped', 'PROBABLE_DUPLICATE');
        continue;
      }
      link = held?.link;
    }
    const hash = contentHash(planned.record);
    const plannedOutcome: RecordOutcome = {
      ...at,
      outcome: 'planned',
      hash,
      ...(planned.entity === 'contacts' ? { typeCode: planned.record.typeCode } : {}),
    };
    // Checked before the dry run stops here: its warnings are the live run's (issue 13, point 8).
    if (
      (planned.entity === 'letters' || planned.entity === 'fileUploads') &&
      attachmentDescription(planned.record).includes('…')
    )
      out.problems.push({
        ...at,
        field: DOCUMENT_FIELD[entity] ?? '',
        code: 'TOO_LONG',
        severity: 'warning',
        message: "the attachment's description is shortened to Cliniko's 255 characters",
      });
    if (!written) {
      // A native note's author is decided as the live run will decide it (authorDecision).
      const decision =
        checkAuthors && planned.entity === 'clinicalNotes'
          ? authorDecision(planned.record, run, at)
          : undefined;
      if (decision && decision.action !== 'author') out.problems.push(decision.problem);
      if (decision?.action === 'skip') {
        settle('skipped', 'NOTE_AUTHOR_HAS_NO_KEY');
        continue;
      }
      out.counts.planned++;
      out.rows.push({
        row: row.row,
        key,
        outcome: 'planned',
        planned,
        dry: { sourceId, hash, ...(mapped ? { mapped } : {}), ...(link ? { link } : {}) },
      });
      out.outcomes.push(plannedOutcome);
      continue;
    }
    const payload = payloadFor(planned, mapped, run, written);
    if ('missing' in payload) {
      settle('failed', payload.missing, { hash });
      out.problems.push({
        ...at,
        field: payload.field,
        code: 'PARENT_NOT_WRITTEN',
        severity: 'error',
        message: payload.missing,
      });
      continue;
    }
    out.rows.push({ row: row.row, key, outcome: 'planned', planned });
    if (payload.kind === 'note') {
      if (planned.entity === 'clinicalNotes')
        out.notes.push({ record: planned.record, outcome: plannedOutcome, patientId: payload.patientId });
      continue;
    }
    out.counts.planned++;
    out.counts.enqueued++;
    out.outcomes.push(plannedOutcome);
    out.writes.push({
      entity,
      sourceId,
      file,
      row: row.row,
      hash,
      payload: link && payload.kind === 'patient' ? { ...payload, link } : payload,
    });
  }
  return out;
}
