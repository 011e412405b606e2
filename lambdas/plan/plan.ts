import type { EntityKey } from '../../src/migration/entities.js';
import { PHASES, type Phase, processRow, TABLES } from '../../src/migration/row-processing.js';
import { archiveProblems, countExcluded } from '../../src/migration/scan-export.js';
import { findTable, splitTable } from '../../src/migration/split-table.js';
import {
  type BatchCounts,
  type BlobStore,
  keys,
  type Problem,
  type RowBatch,
  type StatusStore,
} from '../../src/pipeline/ports.js';
import { openZipSource } from '../../src/source/archive.js';
import type { References } from '../../src/source/builders.js';
import type { SourceRow } from '../../src/source/csv.js';
import type { SourceProfile } from '../../src/source/profile.js';
import { DateOrderEvidence } from '../../src/source/values.js';

/**
 * Plan: streams every table of the export from the bucket once and splits it into batches of
 * rows in the bucket, one list of batch keys per phase. What needs the whole file is settled
 * here: missing columns, unknown columns, repeated keys (the first row wins). The source counts
 * of those rows are recorded so no row vanishes between here and the report.
 */
export interface PlanInput {
  readonly runId: string;
}

export type PlanOutput = { readonly runId: string } & Record<Phase, string[]>;

export interface PlanDeps {
  readonly blobs: BlobStore;
  readonly store: StatusStore;
  readonly profile: SourceProfile;
  readonly batchSize?: number;
}

/** The batch that asks for the "Migrated appointment" type, when some appointment needs it. */
export const MIGRATED_TYPE_BATCH = 'migrated-appointment-type';

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
      const refs: References = {
        patient: () => undefined,
        contact: () => false,
        location: () => undefined,
        practitioner: () => undefined,
        appointmentType: () => false,
        defaultTimeZone: run.defaultTimeZone,
        document: () => undefined,
      };
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

    for (const { table, entity, phase } of TABLES) {
      const spec = deps.profile.tables.find((t) => t.name === table);
      const file = spec ? findTable(archive, spec) : undefined;
      if (!spec || !file) {
        problems.push({
          entity,
          sourceId: '',
          file: spec?.files[0] ?? table,
          row: 0,
          field: '',
          code: 'TABLE_MISSING',
          severity: 'info',
          message: `${spec?.files[0] ?? table} is not in the export; no ${table} are migrated`,
        });
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
      for await (const event of splitTable(archive, file, spec, entity, (p) => problems.push(p))) {
        if (event.kind === 'row') {
          if (table === 'appointments') {
            const type = event.row.values.AppointmentTypeId ?? '';
            if (!type || !validTypes.has(type)) needsMigratedType = true;
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
    const excluded = await countExcluded(archive, deps.profile);
    await deps.store.updateRunStatus(run.runId, 'planned', { excluded });
    await deps.blobs.putJson(run.bucket, keys.problems(run.runId, 'plan'), problems);
    return { runId: run.runId, ...phases };
  } finally {
    await archive.close();
  }
}
