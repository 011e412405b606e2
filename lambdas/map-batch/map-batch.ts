import { createHash } from 'node:crypto';
import { type PlannedRecord, processRow, type TableName, tableInfo } from '../../src/batch/row-processing.js';
import { nativeNotes } from '../../src/config/migration-config.js';
import type { Appointment as ClinicalAppointment, ClinicalNote, Patient } from '../../src/core/canonical.js';
import type { Problem } from '../../src/core/problem.js';
import type { RowBatch } from '../../src/core/row-batch.js';
import { DateOrderEvidence, exportDateOf } from '../../src/core/values.js';
import { bundleNotes, noteGlyphProblems } from '../../src/documents/note-bundles.js';
import { renderNotesPdf } from '../../src/documents/notes-pdf.js';
import { arrivalToMark, recentSince } from '../../src/mapping/arrivals.js';
import {
  MIGRATED_TYPE_NAME,
  mapAppointment,
  mapAppointmentType,
  mapContact,
  mapPatient,
  migratedAppointmentType,
} from '../../src/mapping/cliniko-bodies.js';
import { templateBody, templateName, treatmentNoteBody } from '../../src/mapping/treatment-notes.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { batchName, keys, MIGRATED_TYPE_BATCH, TEMPLATES_BATCH } from '../../src/ports/bucket-keys.js';
import type { CommandQueue, WriteCommand, WritePayload } from '../../src/ports/command-queue.js';
import type { IdMap } from '../../src/ports/id-map.js';
import type { BatchCounts, OutcomeStore, RecordOutcome } from '../../src/ports/outcomes.js';
import type { RunInfo, RunStore } from '../../src/ports/runs.js';
import type { WriteLedger } from '../../src/ports/write-ledger.js';
import { type AccountPatientRef, DuplicateIndex } from '../../src/reconcile/duplicates.js';
import { accountKeys } from '../../src/reconcile/resources.js';
import { AidCollector } from '../../src/report/approval-aids.js';
import { type ArchiveEntry, entryKey, safeEntryPath } from '../../src/source/archive.js';
import type { SourceProfile } from '../../src/source/profile.js';
import type { References } from '../../src/translate/builders.js';
import type { MapBatchInput, MapBatchOutput } from './io.js';

export interface MapBatchDeps {
  readonly blobs: BlobStore;
  readonly store: RunStore & OutcomeStore & IdMap & WriteLedger;
  readonly queue: CommandQueue;
  readonly profile: SourceProfile;
  /** Renders a notes PDF (tests put a failing one in). */
  readonly renderPdf?: typeof renderNotesPdf;
}

export const MIGRATED_TYPE_ID = '__migrated__';

/** Contacts of different kinds may share a source id (E1 and R1 could both be "1"). */
export const contactKey = (kind: string, id: string) => `${kind}:${id}`;

export function contentHash(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('hex').slice(0, 32);
}

const entriesCache = new Map<string, Map<string, ArchiveEntry>>();

async function entries(deps: MapBatchDeps, run: RunInfo): Promise<Map<string, ArchiveEntry>> {
  let index = entriesCache.get(run.runId);
  if (!index) {
    const list = (await deps.blobs.getJson<ArchiveEntry[]>(run.bucket, keys.entries(run.runId))) ?? [];
    index = new Map(list.map((e) => [entryKey(e.path), e]));
    entriesCache.set(run.runId, index);
  }
  return index;
}

/** One of `n` lanes, the same for a source id every time. */
function spread(sourceId: string, n: number): number {
  return Number.parseInt(createHash('md5').update(sourceId).digest('hex').slice(0, 8), 16) % Math.max(1, n);
}

function keyIndexFor(run: RunInfo, sourceId: string): number {
  return spread(sourceId, run.clinikoUsers.length);
}

export async function mapBatch(input: MapBatchInput, deps: MapBatchDeps): Promise<MapBatchOutput> {
  const run = await deps.store.getRun(input.runId);
  if (input.batchKey === MIGRATED_TYPE_BATCH) return mapMigratedType(run, deps);
  if (input.batchKey === TEMPLATES_BATCH) return mapTemplates(run, deps);
  const batch = await loadBatch(deps, run.bucket, input.batchKey);
  const table = batch.table as TableName;
  const entity = tableInfo(table).entity;
  const live = run.mode === 'live';

  // What this batch refers to, fetched once for the whole batch.
  const values = (column: string) => [
    ...new Set(batch.rows.map((r) => r.values[column] ?? '').filter(Boolean)),
  ];
  const clientIds = values('ClientId');
  const [patientOutcomes, contactOutcomes, typeOutcomes] = await Promise.all([
    deps.store.getOutcomes(run.runId, 'patients', clientIds),
    deps.store.getOutcomes(run.runId, 'contacts', [
      ...values('EmployerId').map((v) => contactKey('employer', v)),
      ...values('ReferrerId').map((v) => contactKey('referrer', v)),
    ]),
    deps.store.getOutcomes(run.runId, 'appointmentTypes', values('AppointmentTypeId')),
  ]);
  const [patientIds, contactIds, typeIds] = live
    ? await Promise.all([
        deps.store.getIdMap(run.scope, 'patients', clientIds),
        deps.store.getIdMap(
          run.scope,
          'contacts',
          values('ReferrerId').map((v) => contactKey('referrer', v)),
        ),
        Promise.all([
          deps.store.getIdMap(run.scope, 'appointmentTypes', values('AppointmentTypeId')),
          deps.store.getIdMap(run.scope, 'migratedAppointmentType', [MIGRATED_TYPE_ID]),
        ]).then(([types, migrated]) => new Map([...types, ...migrated])),
      ])
    : [new Map(), new Map(), new Map()];
  const duplicates = entity === 'patients' ? await accountPatients(deps, run) : undefined;
  const documentIndex =
    entity === 'letters' || entity === 'fileUploads'
      ? await entries(deps, run)
      : new Map<string, ArchiveEntry>();

  const outcomeOf = (o: RecordOutcome | undefined) =>
    o ? (o.outcome === 'failed' ? 'invalid' : o.outcome) : undefined;
  const refs: References = {
    patient: (id) => outcomeOf(patientOutcomes.get(id)),
    contact: (kind, id) => contactOutcomes.get(contactKey(kind, id))?.outcome === 'planned',
    location: (id) => run.locations[id],
    practitioner: (id) => run.practitioners[id],
    appointmentType: (id) => typeOutcomes.get(id)?.outcome === 'planned',
    defaultTimeZone: run.defaultTimeZone,
    document: (path) => {
      const safe = safeEntryPath(path);
      if (safe === undefined) return 'escapes';
      const entry = documentIndex.get(entryKey(safe));
      return entry ? { path: entry.path, size: entry.size } : undefined;
    },
  };
  const evidence = new DateOrderEvidence();
  const exportDate = exportDateOf(run.manifest?.exportedAt);
  const ctx = {
    file: batch.file,
    entity,
    profile: deps.profile,
    config: run.config,
    refs,
    evidence,
    ...(exportDate ? { exportDate } : {}),
  };

  const problems: Problem[] = [];
  const outcomes: RecordOutcome[] = [];
  const commands: WriteCommand[] = [];
  const counts = { source: 0, planned: 0, skipped: 0, invalid: 0, enqueued: 0, failed: 0 };
  const idOf = (m: Map<string, { clinikoId: string }>, key: string | undefined) =>
    key ? m.get(key)?.clinikoId : undefined;

  const aids = new AidCollector();
  const zoneOf = (loc: string | undefined) =>
    (loc ? run.locations[loc]?.timeZone : undefined) ?? run.defaultTimeZone;
  /** Live notes waiting to be bundled into PDFs once the whole batch is read. */
  const notes: { record: ClinicalNote; outcome: RecordOutcome; patientId: string }[] = [];

  for (const row of batch.rows) {
    counts.source++;
    const { result, planned } = processRow(table, row, ctx);
    problems.push(...result.problems);
    if (planned?.entity === 'clinicalNotes')
      problems.push(...noteGlyphProblems(planned.record, batch.file, row.row));
    if (entity === 'patients')
      aids.client(
        row,
        batch.file,
        result.outcome,
        planned?.entity === 'patients' ? planned.record : undefined,
      );
    if (planned?.entity === 'appointments')
      aids.appointment(planned.record, zoneOf(planned.record.locationSourceId));
    else if (planned?.entity === 'clinicalNotes') aids.note(planned.record, row.row);
    else if (planned?.entity === 'letters' || planned?.entity === 'fileUploads')
      aids.document(planned.record);
    const rawKey = row.values[tableKey(deps.profile, table)] ?? '';
    const sourceId = entity === 'contacts' ? contactKey(table.replace(/s$/, ''), rawKey) : rawKey;
    if (!planned) {
      counts[result.outcome === 'skipped' ? 'skipped' : 'invalid']++;
      if (rawKey)
        outcomes.push({
          entity,
          sourceId,
          outcome: result.outcome === 'skipped' ? 'skipped' : 'invalid',
          file: batch.file,
          row: row.row,
          reason: result.problems.find((p) => p.severity !== 'warning')?.code ?? '',
        });
      continue;
    }
    let link: { clinikoId: string; setReference: boolean } | undefined;
    if (planned.entity === 'patients' && duplicates) {
      const held = probableDuplicate(
        planned.record,
        run,
        duplicates,
        patientIds.has(sourceId),
        batch.file,
        row.row,
      );
      if (held) problems.push(held.problem);
      if (held?.hold) {
        counts.skipped++;
        outcomes.push({
          entity,
          sourceId,
          outcome: 'skipped',
          file: batch.file,
          row: row.row,
          reason: 'PROBABLE_DUPLICATE',
        });
        continue;
      }
      link = held?.link;
    }
    const hash = contentHash(planned.record);
    const typeCode = planned.entity === 'contacts' ? { typeCode: planned.record.typeCode } : {};
    const label = planned.entity === 'patients' ? { label: patientLabel(planned.record) } : {};
    const plannedOutcome: RecordOutcome = {
      entity,
      sourceId,
      outcome: 'planned',
      file: batch.file,
      row: row.row,
      hash,
      ...typeCode,
      ...label,
    };
    // Checked before the dry run stops here: its warnings are the live run's (issue 13, point 8).
    if (
      (planned.entity === 'letters' || planned.entity === 'fileUploads') &&
      attachmentDescription(planned.record).includes('…')
    ) {
      problems.push({
        entity,
        sourceId,
        file: batch.file,
        row: row.row,
        field: entity === 'letters' ? 'Subject' : 'Description',
        code: 'TOO_LONG',
        severity: 'warning',
        message: "the attachment's description is shortened to Cliniko's 255 characters",
      });
    }
    if (!live) {
      counts.planned++;
      outcomes.push(plannedOutcome);
      // The dry run says which native notes have no author's key, as the live run will.
      if (planned.entity === 'clinicalNotes' && nativeNotes(run.config.clinicalNotes)) {
        const missing = authorWithoutKey(planned.record, run);
        if (missing)
          problems.push({
            entity,
            sourceId,
            file: batch.file,
            row: row.row,
            field: 'PractitionerId',
            code: 'NOTE_AUTHOR_HAS_NO_KEY',
            severity: run.config.notesWithoutAuthorKey === 'skip' ? 'info' : 'warning',
            message: `the note's author (${missing}) has no API key among the configured ones: ${
              run.config.notesWithoutAuthorKey === 'skip'
                ? 'it will not be migrated ("notesWithoutAuthorKey": "skip")'
                : run.config.notesWithoutAuthorKey === 'any-key'
                  ? 'it will be written under another practitioner with "Written by" as its first line'
                  : "it will go into the patient's notes PDF"
            }`,
          });
      }
      continue;
    }
    const isDoctor = (id: string) => contactOutcomes.get(contactKey('referrer', id))?.typeCode === 1;
    let payload = payloadFor(planned, run, isDoctor, (kind, key) =>
      kind === 'patient'
        ? idOf(patientIds, key)
        : kind === 'referrer'
          ? idOf(contactIds, key && contactKey('referrer', key))
          : idOf(typeIds, key),
    );
    if ('missing' in payload) {
      counts.failed++;
      outcomes.push({
        entity,
        sourceId,
        outcome: 'failed',
        file: batch.file,
        row: row.row,
        reason: payload.missing,
        hash,
      });
      problems.push({
        entity,
        sourceId,
        file: batch.file,
        row: row.row,
        field: payload.field,
        code: 'PARENT_NOT_WRITTEN',
        severity: 'error',
        message: payload.missing,
      });
      continue;
    }
    if (payload.kind === 'note') {
      if (planned.entity === 'clinicalNotes')
        notes.push({ record: planned.record, outcome: plannedOutcome, patientId: payload.patientId });
      continue;
    }
    counts.planned++;
    counts.enqueued++;
    outcomes.push(plannedOutcome);
    if (link && payload.kind === 'patient') payload = { ...payload, link };
    commands.push({
      runId: run.runId,
      clinicId: run.clinicId,
      scope: run.scope,
      entity,
      sourceId,
      file: batch.file,
      row: row.row,
      hash,
      keyIndex: keyIndexFor(run, sourceId),
      payload,
    });
  }

  /** Notes PDF kept beside native notes (`native+pdf`): its own counts, outside the report's entities. */
  let archive: { enqueued: number; failed: number } | undefined;
  if (notes.length) {
    let toPdf = notes;
    if (nativeNotes(run.config.clinicalNotes)) {
      const native = await nativeNoteCommands(notes, run, deps);
      outcomes.push(...native.outcomes);
      commands.push(...native.commands);
      problems.push(...native.problems);
      counts.planned += native.enqueued;
      counts.enqueued += native.enqueued;
      counts.skipped += native.skipped;
      toPdf = native.toPdf;
      if (run.config.clinicalNotes === 'native+pdf') {
        const made = await notePdfs(notes, run, deps, patientOutcomes, 'notesArchive');
        commands.push(...made.commands);
        problems.push(...made.problems.map((p) => ({ ...p, severity: 'warning' as const })));
        archive = { enqueued: made.enqueued, failed: made.failed };
      }
    }
    if (toPdf.length) {
      const made = await notePdfs(toPdf, run, deps, patientOutcomes);
      outcomes.push(...made.outcomes);
      commands.push(...made.commands);
      problems.push(...made.problems);
      counts.planned += made.planned;
      counts.enqueued += made.enqueued;
      counts.failed += made.failed;
    }
  }

  await deps.store.putOutcomes(run.runId, outcomes);
  if (['patients', 'appointments', 'clinicalNotes', 'letters', 'fileUploads'].includes(entity))
    await deps.blobs.putJson(run.bucket, keys.aids(run.runId, batchName(input.batchKey)), aids.snapshot());
  await deps.blobs.putJson(run.bucket, keys.problems(run.runId, batchName(input.batchKey)), problems);
  if (commands.length) await deps.queue.send(commands);
  const batchCounts: BatchCounts = {
    entity,
    ...counts,
    planned: live ? counts.planned - counts.enqueued : counts.planned,
  };
  await deps.store.putBatchCounts(run.runId, input.batchKey, batchCounts, evidence.snapshot());
  if (archive)
    await deps.store.putBatchCounts(run.runId, `${input.batchKey}#archive`, {
      entity: 'notesArchive',
      source: 0,
      planned: 0,
      skipped: 0,
      invalid: 0,
      enqueued: archive.enqueued,
      failed: archive.failed,
    });
  return { batchKey: input.batchKey, enqueued: counts.enqueued + (archive?.enqueued ?? 0) };
}

const accountCache = new Map<string, DuplicateIndex>();

/** The account's patients as this run's reconciliation read them (cached per run). */
async function accountPatients(deps: MapBatchDeps, run: RunInfo): Promise<DuplicateIndex> {
  let index = accountCache.get(run.runId);
  if (!index) {
    const list =
      (await deps.blobs.getJson<AccountPatientRef[]>(run.bucket, accountKeys.patients(run.runId))) ?? [];
    index = new DuplicateIndex(list);
    accountCache.set(run.runId, index);
  }
  return index;
}

/**
 * An export patient that matches a Cliniko patient not written under its source id (issue 11;
 * CONTRACT.md §2 `existingPatients`). `report` (the default) holds it back, and with it its
 * appointments, notes and documents (their parent is skipped); `link` adopts the one match (more
 * than one is held back: which one is for the clinic to say); `create` creates it, noted.
 */
function probableDuplicate(
  patient: Patient,
  run: RunInfo,
  index: DuplicateIndex,
  written: boolean,
  file: string,
  row: number,
): { hold: boolean; problem: Problem; link?: { clinikoId: string; setReference: boolean } } | undefined {
  // its own record, written by an earlier run (and still in the account): not a duplicate
  if (written || index.hasReference(patient.sourceId)) return undefined;
  const found = index.candidates(patient);
  const [first] = found;
  if (!first) return undefined;
  const mode = run.config.existingPatients;
  const who = found
    .map((c) =>
      c.oldReferenceId
        ? `Cliniko patient ${c.id} (written under source id ${c.oldReferenceId})`
        : `Cliniko patient ${c.id} (entered in Cliniko)`,
    )
    .join(', ');
  const base = { entity: 'patients', sourceId: patient.sourceId, file, row, field: 'ClientId' };
  if (mode === 'create')
    return {
      hold: false,
      problem: {
        ...base,
        code: 'PROBABLE_DUPLICATE_CREATED',
        severity: 'warning',
        message: `probably the same patient as ${who}: same name and date of birth${patient.email ? ', e-mail' : ''}; created as a new patient anyway ("existingPatients": "create"). Appointments already in Cliniko stay under their patient`,
      },
    };
  if (mode === 'link' && found.length === 1)
    return {
      hold: false,
      link: { clinikoId: first.id, setReference: !first.oldReferenceId },
      problem: {
        ...base,
        code: 'LINKED_TO_EXISTING',
        severity: 'info',
        message: `adopted as ${who} ("existingPatients": "link"): not created; its records are written under it`,
      },
    };
  return {
    hold: true,
    problem: {
      ...base,
      code: 'PROBABLE_DUPLICATE',
      severity: 'warning',
      message: `probably the same patient as ${who}: same name and date of birth${patient.email ? ', e-mail' : ''}; not created, and its appointments, notes and documents are held back. Set "existingPatients" to "link" to adopt it or "create" to create a new patient`,
    },
  };
}

function tableKey(profile: SourceProfile, table: string): string {
  return profile.tables.find((t) => t.name === table)?.key ?? '';
}

type Resolve = (kind: 'patient' | 'referrer' | 'type', sourceId: string | undefined) => string | undefined;

function payloadFor(
  planned: PlannedRecord,
  run: RunInfo,
  isDoctor: (referrerId: string) => boolean,
  resolve: Resolve,
): WritePayload | { kind: 'note'; patientId: string } | { missing: string; field: string } {
  switch (planned.entity) {
    case 'appointmentTypes': {
      const { body } = mapAppointmentType(planned.record);
      return body
        ? { kind: 'appointmentType', body }
        : { missing: 'appointment type could not be mapped', field: 'Name' };
    }
    case 'contacts': {
      const { body } = mapContact(planned.record);
      return body ? { kind: 'contact', body } : { missing: 'contact could not be mapped', field: '' };
    }
    case 'patients': {
      const referrer = planned.record.referrerSourceId;
      const referrerId = resolve('referrer', referrer);
      const { body } = mapPatient(planned.record, (_e, id) => resolve('referrer', id), isDoctor);
      if (!body) return { missing: 'patient could not be mapped', field: '' };
      return {
        kind: 'patient',
        body: body.body,
        alerts: body.alerts,
        ...(referrerId ? { referral: { contactId: referrerId } } : {}),
      };
    }
    case 'appointments': {
      const a = planned.record;
      const patientId = resolve('patient', a.patientSourceId);
      if (!patientId)
        return { missing: `client ${a.patientSourceId} was not written to Cliniko`, field: 'ClientId' };
      const practitionerId = run.practitioners[a.practitionerSourceId]?.clinikoId;
      if (!practitionerId)
        return {
          missing: `practitioner ${a.practitionerSourceId} has no Cliniko practitioner`,
          field: 'PractitionerId',
        };
      const businessId =
        (a.locationSourceId ? run.locations[a.locationSourceId]?.businessId : undefined) ??
        run.defaultBusinessId;
      if (!businessId) return { missing: 'no Cliniko business for this appointment', field: 'LocationId' };
      const typeId = resolve('type', a.appointmentTypeSourceId ?? MIGRATED_TYPE_ID);
      if (!typeId)
        return {
          missing: `appointment type ${a.appointmentTypeSourceId ?? MIGRATED_TYPE_NAME} was not written to Cliniko`,
          field: 'AppointmentTypeId',
        };
      const { body } = mapAppointment(a, {
        patientId,
        practitionerId,
        businessId,
        appointmentTypeId: typeId,
      });
      if (!body) return { missing: 'appointment could not be mapped', field: '' };
      return {
        kind: 'appointment',
        body: body.body,
        patientSourceId: a.patientSourceId,
        ...(body.cancel
          ? { cancel: body.cancel as { cancellation_reason: number; cancellation_note?: string } }
          : {}),
        ...arrival(body.arrived, a, run),
      };
    }
    case 'letters':
    case 'fileUploads': {
      const d = planned.record;
      const patientId = resolve('patient', d.patientSourceId);
      if (!patientId)
        return { missing: `client ${d.patientSourceId} was not written to Cliniko`, field: 'ClientId' };
      return {
        kind: 'attachment',
        patientId,
        path: d.path,
        size: d.size,
        filename: d.path.split('/').pop() ?? d.path,
        contentType: d.contentType,
        description: attachmentDescription(d),
      };
    }
    case 'clinicalNotes': {
      const patientId = resolve('patient', planned.record.patientSourceId);
      if (!patientId)
        return {
          missing: `client ${planned.record.patientSourceId} was not written to Cliniko`,
          field: 'ClientId',
        };
      return { kind: 'note', patientId };
    }
  }
}

/** A batch's rows: a partition's are in its part files. */
async function loadBatch(deps: MapBatchDeps, bucket: string, key: string): Promise<RowBatch> {
  const batch = await deps.blobs.getJson<RowBatch>(bucket, key);
  if (!batch) throw new Error(`batch ${key} is missing from the bucket`);
  if (!batch.parts?.length) return batch;
  const rows: RowBatch['rows'][number][] = [];
  for (const part of batch.parts) {
    const b = await deps.blobs.getJson<RowBatch>(bucket, part);
    if (!b) throw new Error(`batch ${part} (part of ${key}) is missing from the bucket`);
    rows.push(...b.rows);
  }
  return { table: batch.table, file: batch.file, rows };
}

function patientLabel(p: Patient): { name: string; dateOfBirth?: string } {
  const first =
    p.preferredName && p.preferredName !== p.firstName ? `${p.firstName} (${p.preferredName})` : p.firstName;
  return {
    name: [p.title, first, p.middleName, p.lastName].filter(Boolean).join(' '),
    ...(p.dateOfBirth ? { dateOfBirth: p.dateOfBirth } : {}),
  };
}

/**
 * Live notes → PDFs in the run's files → one upload command per PDF. Notes the clinic's id map
 * already holds (an earlier run wrote them) are recorded as present and left out of new PDFs.
 */
async function notePdfs(
  notes: readonly { record: ClinicalNote; outcome: RecordOutcome; patientId: string }[],
  run: RunInfo,
  deps: MapBatchDeps,
  patients: Map<string, RecordOutcome>,
  /** `notesArchive`: the PDF kept beside native notes, recorded apart from the notes themselves. */
  entity: 'clinicalNotes' | 'notesArchive' = 'clinicalNotes',
): Promise<{
  outcomes: RecordOutcome[];
  commands: WriteCommand[];
  problems: Problem[];
  planned: number;
  enqueued: number;
  failed: number;
}> {
  const out = {
    outcomes: [] as RecordOutcome[],
    commands: [] as WriteCommand[],
    problems: [] as Problem[],
    planned: 0,
    enqueued: 0,
    failed: 0,
  };
  const bySource = new Map(notes.map((n) => [n.record.sourceId, n]));
  const known = await deps.store.getIdMap(run.scope, entity, [...bySource.keys()]);
  const fresh: ClinicalNote[] = [];
  /** Where each note's outcome sits, so a failed PDF replaces it (one outcome per row). */
  const at = new Map<string, number>();
  for (const n of notes) {
    const entry = known.get(n.record.sourceId);
    at.set(n.record.sourceId, out.outcomes.length);
    out.outcomes.push(n.outcome);
    out.planned++;
    out.enqueued++;
    if (!entry) {
      fresh.push(n.record);
      continue;
    }
    await deps.store.recordWrite(run.runId, {
      entity,
      sourceId: n.record.sourceId,
      outcome: entry.runId === run.runId ? 'created' : 'alreadyPresent',
      clinikoId: entry.clinikoId,
    });
  }
  const mode = run.config.clinicalNotes === 'pdf-per-note' ? 'pdf-per-note' : 'pdf-per-patient';
  for (const made of bundleNotes(fresh, mode)) {
    // The archive's PDF is another attachment than a notes bundle of the same notes: its own key.
    const bundle =
      entity === 'notesArchive'
        ? {
            ...made,
            sourceId: `archive:${made.sourceId}`,
            description: made.description.replace(/^Clinical notes/, 'Clinical notes archive').slice(0, 255),
            filename: made.filename.replace(/^clinical-notes/, 'clinical-notes-archive'),
          }
        : made;
    const first = bySource.get(bundle.notes[0]?.sourceId ?? '');
    if (!first) continue;
    const label = patients.get(bundle.patientSourceId)?.label;
    let pdf: Buffer;
    try {
      pdf = await (deps.renderPdf ?? renderNotesPdf)({
        ...(run.clinicName ? { clinic: run.clinicName } : {}),
        patient: { sourceId: bundle.patientSourceId, ...label },
        notes: bundle.notes.map((n) => ({
          ...n,
          ...(n.practitionerSourceId && run.practitioners[n.practitionerSourceId]?.name
            ? { practitioner: run.practitioners[n.practitionerSourceId]?.name }
            : {}),
        })),
        index: bundle.members !== undefined,
        sourceSystem: run.manifest?.system ?? 'Gensolve Practice Manager',
      });
    } catch (err) {
      // One patient's odd text must not stop the rest: their notes fail, with the reason.
      for (const note of bundle.notes) {
        const n = bySource.get(note.sourceId);
        const index = at.get(note.sourceId);
        if (!n || index === undefined) continue;
        out.outcomes[index] = { ...n.outcome, outcome: 'failed', reason: 'PDF_RENDER_FAILED' };
        out.planned--;
        out.enqueued--;
        out.failed++;
        out.problems.push({
          entity: 'clinicalNotes',
          sourceId: note.sourceId,
          file: n.outcome.file,
          row: n.outcome.row,
          field: '',
          code: 'PDF_RENDER_FAILED',
          severity: 'error',
          message: `the notes PDF could not be made: ${(err as Error).message}`,
        });
      }
      continue;
    }
    const key = keys.runFile(run.runId, `notes/${bundle.filename}`);
    await deps.blobs.putBytes(run.bucket, key, pdf, 'application/pdf');
    out.commands.push({
      runId: run.runId,
      clinicId: run.clinicId,
      scope: run.scope,
      entity,
      sourceId: bundle.sourceId,
      file: first.outcome.file,
      row: first.outcome.row,
      hash: createHash('sha256').update(pdf).digest('hex').slice(0, 32),
      keyIndex: keyIndexFor(run, bundle.patientSourceId),
      payload: {
        kind: 'attachment',
        patientId: first.patientId,
        path: bundle.filename,
        runFile: key,
        size: pdf.length,
        filename: bundle.filename,
        contentType: 'application/pdf',
        description: bundle.description,
        ...(bundle.members ? { members: bundle.members } : {}),
      },
    });
  }
  return out;
}

/**
 * What Cliniko shows for a migrated letter or upload (at most 255 characters): date, subject or
 * description, and the source id, which also makes it the key the attachment is re-found by.
 */
export function attachmentDescription(d: {
  sourceId: string;
  kind: 'letter' | 'upload';
  date?: string;
  title?: string;
  recipientName?: string;
}): string {
  const tag = `[${d.kind === 'letter' ? 'Letter' : 'Upload'} ${d.sourceId}]`;
  const words = [
    d.date,
    d.title ?? (d.kind === 'letter' ? 'Letter' : 'Upload'),
    d.recipientName ? `to ${d.recipientName}` : undefined,
  ]
    .filter(Boolean)
    .join(' ');
  const room = 255 - tag.length - 1;
  return `${[...words].length > room ? `${[...words].slice(0, room - 1).join('')}…` : words} ${tag}`;
}

async function mapMigratedType(run: RunInfo, deps: MapBatchDeps): Promise<MapBatchOutput> {
  if (run.mode !== 'live') return { batchKey: MIGRATED_TYPE_BATCH, enqueued: 0 };
  const body = migratedAppointmentType();
  const command: WriteCommand = {
    runId: run.runId,
    clinicId: run.clinicId,
    scope: run.scope,
    entity: 'migratedAppointmentType',
    sourceId: MIGRATED_TYPE_ID,
    file: '',
    row: 0,
    hash: contentHash(body),
    keyIndex: 0,
    payload: { kind: 'appointmentType', body },
  };
  await deps.queue.send([command]);
  // Not a source row: counted as enqueued so its phase waits for it, never as a migrated type.
  await deps.store.putBatchCounts(run.runId, MIGRATED_TYPE_BATCH, {
    entity: 'migratedAppointmentType',
    source: 0,
    planned: 0,
    skipped: 0,
    invalid: 0,
    enqueued: 1,
    failed: 0,
  });
  return { batchKey: MIGRATED_TYPE_BATCH, enqueued: 1 };
}

/** Writes the treatment note templates Plan found (one per assessment type), before any note. */
async function mapTemplates(run: RunInfo, deps: MapBatchDeps): Promise<MapBatchOutput> {
  const found =
    (await deps.blobs.getJson<{ name: string; columns: string[] }[]>(
      run.bucket,
      keys.templates(run.runId),
    )) ?? [];
  const live = run.mode === 'live';
  const commands: WriteCommand[] = found.map((t) => {
    const body = templateBody(t.name, t.columns);
    return {
      runId: run.runId,
      clinicId: run.clinicId,
      scope: run.scope,
      entity: 'treatmentNoteTemplates',
      sourceId: t.name,
      file: '',
      row: 0,
      hash: contentHash(body),
      keyIndex: keyIndexFor(run, t.name),
      payload: { kind: 'treatmentNoteTemplate', body },
    };
  });
  if (live && commands.length) await deps.queue.send(commands);
  await deps.store.putBatchCounts(run.runId, TEMPLATES_BATCH, {
    entity: 'treatmentNoteTemplates',
    source: 0,
    planned: 0,
    skipped: 0,
    invalid: 0,
    enqueued: live ? commands.length : 0,
    failed: 0,
  });
  return { batchKey: TEMPLATES_BATCH, enqueued: live ? commands.length : 0 };
}

/**
 * Live notes → native treatment notes, each pinned to its author's key (the key whose user is
 * the note's practitioner, CLINIKO_API.md §2.11). A note whose practitioner has no key follows
 * `notesWithoutAuthorKey`: into the PDF bundle (`pdf`, returned in `toPdf`), written with a
 * practitioner's key and a "Written by" first line (`any-key`), or skipped and reported (`skip`).
 */
async function nativeNoteCommands(
  notes: readonly { record: ClinicalNote; outcome: RecordOutcome; patientId: string }[],
  run: RunInfo,
  deps: MapBatchDeps,
): Promise<{
  outcomes: RecordOutcome[];
  commands: WriteCommand[];
  problems: Problem[];
  toPdf: { record: ClinicalNote; outcome: RecordOutcome; patientId: string }[];
  enqueued: number;
  skipped: number;
}> {
  const out = {
    outcomes: [] as RecordOutcome[],
    commands: [] as WriteCommand[],
    problems: [] as Problem[],
    toPdf: [] as { record: ClinicalNote; outcome: RecordOutcome; patientId: string }[],
    enqueued: 0,
    skipped: 0,
  };
  const keyOf = new Map<string, number>();
  for (const [i, p] of (run.keyPractitioners ?? []).entries()) if (p && !keyOf.has(p)) keyOf.set(p, i);
  const practitionerKeys = [...keyOf.values()];
  const [bookings, templates] = await Promise.all([
    deps.store.getIdMap(run.scope, 'appointments', [
      ...new Set(notes.map((n) => n.record.appointmentSourceId ?? '').filter(Boolean)),
    ]),
    deps.store.getIdMap(run.scope, 'treatmentNoteTemplates', [
      ...new Set(notes.map((n) => templateName(n.record))),
    ]),
  ]);
  const policy = run.config.notesWithoutAuthorKey;
  for (const n of notes) {
    const note = n.record;
    const practitioner = note.practitionerSourceId ? run.practitioners[note.practitionerSourceId] : undefined;
    const authorKey = practitioner?.clinikoId ? keyOf.get(practitioner.clinikoId) : undefined;
    const problem = (code: string, severity: Problem['severity'], message: string): Problem => ({
      entity: 'clinicalNotes',
      sourceId: note.sourceId,
      file: n.outcome.file,
      row: n.outcome.row,
      field: 'PractitionerId',
      code,
      severity,
      message,
    });
    const who =
      practitioner?.name ??
      (note.practitionerSourceId ? `practitioner ${note.practitionerSourceId}` : 'no practitioner');
    let keyIndex = authorKey;
    let writtenBy: { name: string; date: string } | undefined;
    if (keyIndex === undefined) {
      if (policy === 'skip') {
        out.skipped++;
        out.outcomes.push({ ...n.outcome, outcome: 'skipped', reason: 'NOTE_AUTHOR_HAS_NO_KEY' });
        out.problems.push(
          problem(
            'NOTE_AUTHOR_HAS_NO_KEY',
            'info',
            `not migrated: the note's author (${who}) has no API key among the configured ones ("notesWithoutAuthorKey": "skip")`,
          ),
        );
        continue;
      }
      if (policy === 'pdf' || !practitionerKeys.length) {
        out.toPdf.push(n);
        out.problems.push(
          problem(
            'NOTE_AUTHOR_HAS_NO_KEY',
            'warning',
            `the note's author (${who}) has no API key among the configured ones${policy === 'pdf' ? '' : ' and no key belongs to a practitioner'}: it goes into the patient's notes PDF`,
          ),
        );
        continue;
      }
      // any-key: a practitioner's key, spread by note; the first line says who really wrote it.
      keyIndex = practitionerKeys[spread(note.sourceId, practitionerKeys.length)];
      writtenBy = { name: practitioner?.name ?? who, date: note.date };
      out.problems.push(
        problem(
          'NOTE_AUTHOR_HAS_NO_KEY',
          'warning',
          `the note's author (${who}) has no API key among the configured ones: written under another practitioner with "Written by" as its first line`,
        ),
      );
    }
    const bookingId = note.appointmentSourceId
      ? bookings.get(note.appointmentSourceId)?.clinikoId
      : undefined;
    const templateId = templates.get(templateName(note))?.clinikoId;
    const body = treatmentNoteBody(note, {
      patientId: n.patientId,
      ...(bookingId ? { bookingId } : {}),
      ...(templateId ? { templateId } : {}),
      ...(writtenBy ? { writtenBy } : {}),
    });
    out.outcomes.push(n.outcome);
    out.enqueued++;
    out.commands.push({
      runId: run.runId,
      clinicId: run.clinicId,
      scope: run.scope,
      entity: 'clinicalNotes',
      sourceId: note.sourceId,
      file: n.outcome.file,
      row: n.outcome.row,
      hash: n.outcome.hash ?? contentHash(body),
      keyIndex: keyIndex ?? 0,
      pinnedKey: true,
      payload: { kind: 'treatmentNote', body },
    });
  }
  return out;
}

/** The attendee's `arrived` to set, as `markArrivals` says (did-not-arrive is always kept). */
function arrival(mapped: boolean | undefined, a: ClinicalAppointment, run: RunInfo): { arrived?: boolean } {
  if (mapped === undefined) return {};
  const since = recentSince(run.manifest?.exportedAt ?? run.startedAt);
  const mark = arrivalToMark(a, run.config.markArrivals, since);
  return mark === undefined ? {} : { arrived: mark };
}

/** Who wrote a note that no configured key can write as (their name), or nothing. */
function authorWithoutKey(note: ClinicalNote, run: RunInfo): string | undefined {
  const practitioner = note.practitionerSourceId ? run.practitioners[note.practitionerSourceId] : undefined;
  const id = practitioner?.clinikoId;
  if (id && (run.keyPractitioners ?? []).includes(id)) return undefined;
  return (
    practitioner?.name ??
    (note.practitionerSourceId ? `practitioner ${note.practitionerSourceId}` : 'no practitioner')
  );
}
