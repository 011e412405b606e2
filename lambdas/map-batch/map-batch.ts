import { type MappedBatch, mapRows } from '../../src/batch/map-rows.js';
import { nativeNoteWrites } from '../../src/batch/native-notes.js';
import { contactKey, MIGRATED_TYPE_ID, type WrittenIds } from '../../src/batch/payload.js';
import { references } from '../../src/batch/references.js';
import { type TableName, tableInfo } from '../../src/batch/row-processing.js';
import { nativeNotes } from '../../src/config/migration-config.js';
import { RowBatch } from '../../src/core/row-batch.js';
import { DateOrderEvidence, exportDateOf } from '../../src/core/values.js';
import type { renderNotesPdf } from '../../src/documents/notes-pdf.js';
import { templateName } from '../../src/mapping/treatment-notes.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { batchName, keys, MIGRATED_TYPE_BATCH, TEMPLATES_BATCH } from '../../src/ports/bucket-keys.js';
import type { CommandQueue, WriteCommand } from '../../src/ports/command-queue.js';
import type { Findings, IdMap } from '../../src/ports/id-map.js';
import type { BatchCounts, OutcomeStore, RecordOutcome } from '../../src/ports/outcomes.js';
import type { RunInfo, RunStore } from '../../src/ports/runs.js';
import type { WriteLedger } from '../../src/ports/write-ledger.js';
import { accountPatients as readAccountPatients } from '../../src/reconcile/account-patients.js';
import { type AccountPatientRef, DuplicateIndex } from '../../src/reconcile/duplicates.js';
import { AidCollector } from '../../src/report/approval-aids.js';
import { namesFromRunExport } from '../../src/report/named-clients.js';
import { ArchiveEntries, EntryIndex } from '../../src/source/archive.js';
import type { SourceProfile } from '../../src/source/profile.js';
import type { ClientName } from '../../src/translate/client-names.js';
import { commandFor } from './commands.js';
import { settleDry } from './dry-settle.js';
import type { MapBatchInput, MapBatchOutput } from './io.js';
import { notePdfs } from './note-pdfs.js';
import { mapMigratedType, mapTemplates } from './support-batches.js';

export interface MapBatchDeps {
  readonly blobs: BlobStore;
  readonly store: RunStore & OutcomeStore & IdMap & Findings & WriteLedger;
  readonly queue: CommandQueue;
  readonly profile: SourceProfile;
  /** Renders a notes PDF (tests put a failing one in). */
  readonly renderPdf?: typeof renderNotesPdf;
}

const entriesCache = new Map<string, EntryIndex>();

async function entries(deps: MapBatchDeps, run: RunInfo): Promise<EntryIndex> {
  let index = entriesCache.get(run.runId);
  if (!index) {
    const list = (await deps.blobs.getJson(run.bucket, keys.entries(run.runId), ArchiveEntries)) ?? [];
    index = new EntryIndex(list);
    entriesCache.set(run.runId, index);
  }
  return index;
}

const accountCache = new Map<string, DuplicateIndex>();

/** The account's patients as this run's reconciliation read them (cached per run). */
async function accountPatients(deps: MapBatchDeps, run: RunInfo): Promise<DuplicateIndex> {
  let index = accountCache.get(run.runId);
  if (!index) {
    const list: AccountPatientRef[] = [];
    for await (const p of readAccountPatients(deps.blobs, run.bucket, run.runId)) list.push(p);
    index = new DuplicateIndex(list);
    accountCache.set(run.runId, index);
  }
  return index;
}

const ENTITIES_WITH_AIDS = ['patients', 'appointments', 'clinicalNotes', 'letters', 'fileUploads'];

export async function mapBatch(input: MapBatchInput, deps: MapBatchDeps): Promise<MapBatchOutput> {
  const run = await deps.store.getRun(input.runId);
  if (input.batchKey === MIGRATED_TYPE_BATCH) return mapMigratedType(run, deps);
  if (input.batchKey === TEMPLATES_BATCH) return mapTemplates(run, deps);
  const batch = await loadBatch(deps, run.bucket, input.batchKey);
  const table = tableInfo(batch.table).table;
  const mapped = await mapLoaded(run, table, batch, deps);
  const { entity, problems, outcomes } = mapped;
  const counts = { ...mapped.counts };
  const commands: WriteCommand[] = mapped.writes.map((w) => commandFor(run, w));

  /** Notes PDF kept beside native notes (`native+pdf`): its own counts, outside the report's entities. */
  let archive: { enqueued: number; failed: number } | undefined;
  if (mapped.notes.length) {
    const notes = mapped.notes;
    let toPdf = notes;
    // Read when the PDFs are made, never kept: the status table holds ids and hashes only (issue 23).
    let names: ReadonlyMap<string, ClientName> | undefined;
    const namesOf = async () => {
      names ??= await namesFromRunExport(
        deps.blobs,
        run,
        deps.profile,
        notes.map((n) => n.record.patientSourceId),
      );
      return names;
    };
    if (nativeNotes(run.config.clinicalNotes)) {
      const [bookings, templates] = await Promise.all([
        deps.store.getIdMap(run.scope, 'appointments', [
          ...new Set(notes.map((n) => n.record.appointmentSourceId ?? '').filter(Boolean)),
        ]),
        deps.store.getIdMap(run.scope, 'treatmentNoteTemplates', [
          ...new Set(notes.map((n) => templateName(n.record))),
        ]),
      ]);
      const native = nativeNoteWrites(
        notes,
        run,
        (id) => bookings.get(id)?.clinikoId,
        (name) => templates.get(name)?.clinikoId,
      );
      outcomes.push(...native.outcomes);
      commands.push(...native.writes.map((w) => commandFor(run, w)));
      problems.push(...native.problems);
      counts.planned += native.enqueued;
      counts.enqueued += native.enqueued;
      counts.skipped += native.skipped;
      toPdf = native.toPdf;
      if (run.config.clinicalNotes === 'native+pdf') {
        const made = await notePdfs(notes, run, deps, await namesOf(), 'notesArchive');
        commands.push(...made.commands);
        problems.push(...made.problems.map((p) => ({ ...p, severity: 'warning' as const })));
        archive = { enqueued: made.enqueued, failed: made.failed };
      }
    }
    if (toPdf.length) {
      const made = await notePdfs(toPdf, run, deps, await namesOf());
      outcomes.push(...made.outcomes);
      commands.push(...made.commands);
      problems.push(...made.problems);
      counts.planned += made.planned;
      counts.enqueued += made.enqueued;
      counts.failed += made.failed;
    }
  }

  await deps.store.putOutcomes(run.runId, outcomes);
  if (ENTITIES_WITH_AIDS.includes(entity))
    await deps.blobs.putJson(run.bucket, keys.aids(run.runId, batchName(input.batchKey)), mapped.aids);
  await deps.blobs.putJson(run.bucket, keys.problems(run.runId, batchName(input.batchKey)), problems);
  if (commands.length) await deps.queue.send(commands);
  const live = run.mode === 'live';
  // A dry run's planned rows decided as the live writer will (create, update, present).
  const settled = live ? undefined : await settleDry(run, mapped, mapped.ids, deps);
  const batchCounts: BatchCounts = {
    entity,
    ...counts,
    planned: live ? counts.planned - counts.enqueued : counts.planned - (settled?.alreadyPresent ?? 0),
    ...(settled ? { alreadyPresent: settled.alreadyPresent, updated: settled.updated } : {}),
  };
  await deps.store.putBatchCounts(run.runId, input.batchKey, batchCounts, mapped.evidence);
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

/**
 * Reads what the batch's rows refer to (once for the whole batch: earlier phases' outcomes, the
 * clinic's id map in a live run, the export's entries, the account's patients) and runs the core.
 */
async function mapLoaded(
  run: RunInfo,
  table: TableName,
  batch: RowBatch,
  deps: MapBatchDeps,
): Promise<
  MappedBatch & {
    aids: ReturnType<AidCollector['snapshot']>;
    evidence: ReturnType<DateOrderEvidence['snapshot']>;
    ids: WrittenIds;
  }
> {
  const entity = tableInfo(table).entity;
  const live = run.mode === 'live';
  const values = (column: string) => [
    ...new Set(batch.rows.map((r) => r.values[column] ?? '').filter(Boolean)),
  ];
  const clientIds = values('ClientId');
  const referrers = values('ReferrerId').map((v) => contactKey('referrer', v));
  const [patientOutcomes, contactOutcomes, typeOutcomes] = await Promise.all([
    deps.store.getOutcomes(run.runId, 'patients', clientIds),
    deps.store.getOutcomes(run.runId, 'contacts', [
      ...values('EmployerId').map((v) => contactKey('employer', v)),
      ...referrers,
    ]),
    deps.store.getOutcomes(run.runId, 'appointmentTypes', values('AppointmentTypeId')),
  ]);
  // A dry run reads the same id map (reads only): its duplicate check and settle decide as live.
  const [patientIds, contactIds, typeIds] = await Promise.all([
    deps.store.getIdMap(run.scope, 'patients', clientIds),
    deps.store.getIdMap(run.scope, 'contacts', referrers),
    Promise.all([
      deps.store.getIdMap(run.scope, 'appointmentTypes', values('AppointmentTypeId')),
      deps.store.getIdMap(run.scope, 'migratedAppointmentType', [MIGRATED_TYPE_ID]),
    ]).then(([types, migrated]) => new Map([...types, ...migrated])),
  ]);
  const duplicates = entity === 'patients' ? await accountPatients(deps, run) : undefined;
  const documentIndex =
    entity === 'letters' || entity === 'fileUploads' ? await entries(deps, run) : new EntryIndex([]);

  const outcomeOf = (o: RecordOutcome | undefined) =>
    o ? (o.outcome === 'failed' ? 'invalid' : o.outcome) : undefined;
  const refs = references({
    patient: (id) => outcomeOf(patientOutcomes.get(id)),
    contact: (kind, id) => contactOutcomes.get(contactKey(kind, id))?.outcome === 'planned',
    location: (id) => run.locations[id],
    practitioner: (id) => run.practitioners[id],
    appointmentType: (id) => typeOutcomes.get(id)?.outcome === 'planned',
    defaultTimeZone: run.defaultTimeZone,
    entry: (path) => documentIndex.match(path),
  });
  const evidence = new DateOrderEvidence();
  const exportDate = exportDateOf(run.manifest?.exportedAt);
  const aids = new AidCollector();
  const mapped = mapRows({
    table,
    file: batch.file,
    rows: batch.rows,
    profile: deps.profile,
    run: {
      ...run,
      exportedAt: run.manifest?.exportedAt ?? run.startedAt,
      keyPractitioners: run.keyPractitioners ?? [],
    },
    refs,
    evidence,
    ...(exportDate ? { exportDate } : {}),
    aids,
    ...(duplicates ? { duplicates: { index: duplicates, written: (id: string) => patientIds.has(id) } } : {}),
    ...(live
      ? {
          written: {
            patient: (id: string) => patientIds.get(id)?.clinikoId,
            referrer: (id: string) => contactIds.get(contactKey('referrer', id))?.clinikoId,
            appointmentType: (id: string) => typeIds.get(id)?.clinikoId,
            isDoctor: (id: string) => contactOutcomes.get(contactKey('referrer', id))?.typeCode === 1,
          },
        }
      : {}),
  });
  const ids: WrittenIds = {
    patient: (id: string) => patientIds.get(id)?.clinikoId,
    referrer: (id: string) => contactIds.get(contactKey('referrer', id))?.clinikoId,
    appointmentType: (id: string) => typeIds.get(id)?.clinikoId,
    isDoctor: (id: string) => contactOutcomes.get(contactKey('referrer', id))?.typeCode === 1,
  };
  return { ...mapped, aids: aids.snapshot(), evidence: evidence.snapshot(), ids };
}

/** A batch's rows: a partition's are in its part files. */
async function loadBatch(deps: MapBatchDeps, bucket: string, key: string): Promise<RowBatch> {
  const batch = await deps.blobs.getJson(bucket, key, RowBatch);
  if (!batch) throw new Error(`batch ${key} is missing from the bucket`);
  if (!batch.parts?.length) return batch;
  const rows: RowBatch['rows'][number][] = [];
  for (const part of batch.parts) {
    const b = await deps.blobs.getJson(bucket, part, RowBatch);
    if (!b) throw new Error(`batch ${part} (part of ${key}) is missing from the bucket`);
    rows.push(...b.rows);
  }
  return { table: batch.table, file: batch.file, rows };
}
