import { createHash } from 'node:crypto';
import { references } from '../../src/batch/references.js';
import { PHASES, type Phase, processRow, TABLES } from '../../src/batch/row-processing.js';
import { nativeNotes } from '../../src/config/migration-config.js';
import type { EntityKey } from '../../src/core/entities.js';
import type { Problem } from '../../src/core/problem.js';
import type { RowBatch } from '../../src/core/row-batch.js';
import { DateOrderEvidence } from '../../src/core/values.js';
import { TemplateCollector } from '../../src/mapping/treatment-notes.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { keys, MIGRATED_TYPE_BATCH, TEMPLATES_BATCH } from '../../src/ports/bucket-keys.js';
import type { BatchCounts, OutcomeStore } from '../../src/ports/outcomes.js';
import type { RunStore } from '../../src/ports/runs.js';
import { openZipSource } from '../../src/source/archive.js';
import type { SourceRow } from '../../src/source/csv.js';
import { archiveProblems, countExcluded } from '../../src/source/export-checks.js';
import type { SourceProfile } from '../../src/source/profile.js';
import { findTable, splitTable, tableMissing } from '../../src/source/split-table.js';
import type { PhaseManifest, PlanInput, PlanOutput } from './io.js';

/** The ports Plan uses, no more: a test double of them is typed by them (`satisfies`), never cast. */
export interface PlanDeps {
  readonly blobs: Pick<BlobStore, 'putJson' | 'byteSource'>;
  readonly store: Pick<RunStore & OutcomeStore, 'getRun' | 'putBatchCounts' | 'updateRunStatus'>;
  readonly profile: SourceProfile;
  readonly batchSize?: number;
}

export async function plan(input: PlanInput, deps: PlanDeps): Promise<PlanOutput> {
  const run = await deps.store.getRun(input.runId);
  const batchSize = deps.batchSize ?? 500;
  const archive = await openZipSource(await deps.blobs.byteSource(run.bucket, run.exportKey));
  const phases: Record<Phase, string[]> = Object.fromEntries(PHASES.map((p) => [p, []])) as unknown as Record<
    Phase,
    string[]
  >;
  const problems: Problem[] = [];
  try {
    problems.push(...archiveProblems(archive, deps.profile));
    await deps.blobs.putJson(run.bucket, keys.entries(run.runId), archive.entries);

    // Valid appointment types, to know whether any appointment needs "Migrated appointment".
    const validTypes = new Set<string>();
    const typeSpec = deps.profile.tables.find((t) => t.name === 'appointmentTypes');
    const typeFile = typeSpec ? findTable(archive, typeSpec) : undefined;
    if (typeSpec && typeFile) {
      const refs = references({ defaultTimeZone: run.defaultTimeZone });
      const ctx = {
        file: typeFile,
        entity: 'appointmentTypes',
        profile: deps.profile,
        config: run.config,
        refs,
        evidence: new DateOrderEvidence(),
      };
      for await (const e of splitTable(archive, typeFile, typeSpec, 'appointmentTypes', () => undefined)) {
        if (e.kind === 'row' && processRow('appointmentTypes', e.row, ctx).planned)
          validTypes.add(e.row.values.AppointmentTypeId ?? '');
      }
    }
    let needsMigratedType = false;
    const templates = nativeNotes(run.config.clinicalNotes) ? new TemplateCollector() : undefined;

    for (const { table, entity, phase } of TABLES) {
      const spec = deps.profile.tables.find((t) => t.name === table);
      const file = spec ? findTable(archive, spec) : undefined;
      if (!spec || !file) {
        problems.push(tableMissing(entity, spec?.files[0] ?? table, `no ${table} are migrated`));
        continue;
      }
      let rows: SourceRow[] = [];
      let n = 0;
      const own = { source: 0, skipped: 0, invalid: 0 };
      const flush = async () => {
        if (!rows.length) return;
        const key = keys.batch(run.runId, table, n++);
        const batch: RowBatch = { table, file, rows };
        await deps.blobs.putJson(run.bucket, key, batch);
        phases[phase].push(key);
        rows = [];
      };
      // A patient's notes make one PDF, so they must reach one mapper: rows are partitioned by client
      // (native notes too: those without their author's key, and the archive, are PDF bundles).
      const partitions =
        table === 'clinicalNotes' && run.config.clinicalNotes !== 'pdf-per-note'
          ? new Partitioner(run, table, file, archive.find(file)?.size ?? 0, batchSize, deps.blobs)
          : undefined;
      for await (const event of splitTable(archive, file, spec, entity, (p) => problems.push(p))) {
        if (event.kind === 'row') {
          if (templates && table === 'clinicalNotes')
            templates.add(event.row.values.AssessmentType, event.row.extra);
          if (table === 'appointments') {
            const type = event.row.values.AppointmentTypeId ?? '';
            if (!type || !validTypes.has(type)) needsMigratedType = true;
          }
          if (partitions) {
            await partitions.add(event.row);
            continue;
          }
          rows.push(event.row);
          if (rows.length >= batchSize) await flush();
          continue;
        }
        own.source++;
        if (event.kind === 'duplicate') {
          own.skipped++;
          problems.push(event.problem);
        } else own.invalid++;
      }
      await flush();
      if (partitions) phases[phase].push(...(await partitions.finish()));
      const counts: BatchCounts = {
        entity: entity as EntityKey,
        source: own.source,
        planned: 0,
        skipped: own.skipped,
        invalid: own.invalid,
        enqueued: 0,
        failed: 0,
      };
      await deps.store.putBatchCounts(run.runId, `plan:${table}`, counts);
    }
    if (needsMigratedType) phases.setup.push(MIGRATED_TYPE_BATCH);
    const found = templates?.templates() ?? [];
    if (found.length) {
      await deps.blobs.putJson(run.bucket, keys.templates(run.runId), found);
      phases.setup.push(TEMPLATES_BATCH);
    }
    // A document needs its patient, not its appointment, unless notes become treatment notes on
    // their booking: then documents wait for the appointments; otherwise both are written in one
    // phase, and notes PDFs are rendered while appointments are written (issue 16, point 3).
    if (!nativeNotes(run.config.clinicalNotes)) {
      phases.appointments.push(...phases.documents);
      phases.documents = [];
    }
    const excluded = await countExcluded(archive, deps.profile);
    await deps.store.updateRunStatus(run.runId, 'planned', { excluded });
    await deps.blobs.putJson(run.bucket, keys.problems(run.runId, 'plan'), problems);
    const written = async (phase: Phase): Promise<PhaseManifest> => {
      const manifest = keys.manifest(run.runId, phase);
      await deps.blobs.putJson(run.bucket, manifest, phases[phase]);
      return { batches: phases[phase].length, manifest };
    };
    return {
      runId: run.runId,
      setup: await written('setup'),
      patients: await written('patients'),
      appointments: await written('appointments'),
      documents: await written('documents'),
    };
  } finally {
    await archive.close();
  }
}

/** Bytes of a notes table per partition: a mapper renders about this much note text at a time. */
const PARTITION_BYTES = 1 << 20;
/** Rows held in memory across all partitions before every partition is written out. */
const BUFFER_BYTES = 16 << 20;

/**
 * Splits a table into partitions by client, so that all of a client's rows meet in one mapper,
 * without holding the table in memory: each partition's rows go out in parts as they fill, and a
 * partition file lists its parts. The partition count comes from the table's size in the export.
 */
export class Partitioner {
  private readonly count: number;
  private readonly buffers = new Map<number, SourceRow[]>();
  private readonly parts = new Map<number, string[]>();
  private buffered = 0;

  constructor(
    private readonly run: { readonly runId: string; readonly bucket: string },
    private readonly table: string,
    private readonly file: string,
    tableBytes: number,
    private readonly batchSize: number,
    private readonly blobs: Pick<BlobStore, 'putJson'>,
  ) {
    this.count = Math.max(1, Math.min(10_000, Math.ceil(tableBytes / PARTITION_BYTES)));
  }

  private bucketOf(row: SourceRow): number {
    const client = (row.values.ClientId ?? '').trim();
    return Number.parseInt(createHash('md5').update(client).digest('hex').slice(0, 8), 16) % this.count;
  }

  async add(row: SourceRow): Promise<void> {
    const p = this.bucketOf(row);
    const rows = this.buffers.get(p) ?? [];
    this.buffers.set(p, rows);
    rows.push(row);
    this.buffered += rowBytes(row);
    if (rows.length >= this.batchSize) await this.flush(p);
    if (this.buffered > BUFFER_BYTES) for (const q of [...this.buffers.keys()]) await this.flush(q);
  }

  private async flush(p: number): Promise<void> {
    const rows = this.buffers.get(p);
    if (!rows?.length) return;
    const list = this.parts.get(p) ?? [];
    this.parts.set(p, list);
    const key = keys.partitionPart(this.run.runId, this.table, p, list.length);
    const batch: RowBatch = { table: this.table, file: this.file, rows };
    await this.blobs.putJson(this.run.bucket, key, batch);
    list.push(key);
    this.buffered -= rows.reduce((n, r) => n + rowBytes(r), 0);
    this.buffers.delete(p);
  }

  /** Writes what is left and the partition files: the keys the mappers are given. */
  async finish(): Promise<string[]> {
    for (const p of [...this.buffers.keys()]) await this.flush(p);
    const out: string[] = [];
    for (const p of [...this.parts.keys()].sort((a, b) => a - b)) {
      const key = keys.partition(this.run.runId, this.table, p);
      const batch: RowBatch = {
        table: this.table,
        file: this.file,
        rows: [],
        parts: this.parts.get(p) ?? [],
      };
      await this.blobs.putJson(this.run.bucket, key, batch);
      out.push(key);
    }
    return out;
  }
}

function rowBytes(row: SourceRow): number {
  let n = 64;
  for (const v of Object.values(row.values)) n += v.length;
  for (const e of row.extra) n += e.header.length + e.value.length;
  return n;
}
