import { basename } from 'node:path';
import type { MigrationConfig } from '../config/migration-config.js';
import type * as M from '../core/canonical.js';
import { type EntityCounts, type EntityKey, emptyEntities } from '../core/entities.js';
import type { Problem, RowOutcome } from '../core/problem.js';
import { DateOrderEvidence, exportDateOf } from '../core/values.js';
import type { RecordOutcome } from '../ports/outcomes.js';
import { AidCollector, type AidsSnapshot } from '../report/approval-aids.js';
import {
  type ClinikoBusiness,
  type ClinikoPractitioner,
  resolveLocations,
  resolvePractitioners,
} from '../resolve/references.js';
import { type ExportArchive, openArchive } from '../source/archive.js';
import type { SourceRow } from '../source/csv.js';
import {
  archiveProblems,
  checkRefusals,
  countExcluded,
  dateOrderProblems,
  sha256File,
} from '../source/export-checks.js';
import { type Manifest, readManifest } from '../source/manifest.js';
import type { SourceProfile, TableSpec } from '../source/profile.js';
import { findTable, splitTable } from '../source/split-table.js';
import { type BatchRun, type MappedRow, type MapRowsInput, mapRows } from './map-rows.js';
import { readReferenceTables } from './reference-tables.js';
import { references } from './references.js';
import { type PlannedRecord, TABLES, type TableName } from './row-processing.js';

/** Rows the scan hands the batch core at once (MapBatch's batches are about this size). */
const CHUNK_ROWS = 500;

export interface ClinikoReferenceData {
  readonly practitioners: readonly ClinikoPractitioner[];
  readonly businesses: readonly ClinikoBusiness[];
  /** `old_reference_id`s of patients already in Cliniko. */
  readonly existingPatientRefs: ReadonlySet<string>;
}

export type { PlannedRecord } from './row-processing.js';

/** A planned record; appointments come with the Cliniko business and practitioner they resolved to. */
export type ScannedRecord =
  | Exclude<PlannedRecord, { entity: 'appointments' }>
  | {
      entity: 'appointments';
      record: M.Appointment;
      businessId: string | undefined;
      practitionerId: string | undefined;
    };

export interface ScanProgress {
  readonly table: string;
  readonly file: string;
  readonly rows: number;
  readonly done: boolean;
}

export interface ScanOptions {
  readonly profile: SourceProfile;
  readonly config: MigrationConfig;
  /** Cliniko's reference data, asked for once the export's practitioners and locations are read. */
  readonly cliniko: (exportRefs: {
    locations: M.Location[];
    practitioners: M.Practitioner[];
  }) => Promise<ClinikoReferenceData>;
  readonly onPlanned?: (planned: ScannedRecord, row: { file: string; row: number }) => void | Promise<void>;
  readonly onProblem?: (problem: Problem) => void;
  /** Each keyed row's outcome as the batch core decided it (MapBatch stores the same ones). */
  readonly onOutcome?: (outcome: RecordOutcome) => void;
  readonly onProgress?: (progress: ScanProgress) => void;
}

export interface ScanResult {
  readonly source: { readonly system: string; readonly file: string; readonly sha256: string };
  readonly manifest: Manifest | undefined;
  readonly entities: Record<EntityKey, EntityCounts>;
  readonly excluded: Record<string, number>;
  readonly problems: Problem[];
  readonly rowsRead: number;
  readonly defaultBusinessId: string | undefined;
  readonly defaultTimeZone: string;
  /** Practitioners' and locations' names as exported, by source id: the report shows them. */
  readonly names: {
    readonly practitioners: Readonly<Record<string, string>>;
    readonly locations: Readonly<Record<string, string>>;
  };
  /** Some appointment's type is missing or unknown: "Migrated appointment" is needed. */
  readonly needsMigratedType: boolean;
  /** What the approval aids are built from. */
  readonly aids: AidsSnapshot;
}

export async function scanExport(archivePath: string, options: ScanOptions): Promise<ScanResult> {
  const archive = await openArchive(archivePath);
  try {
    return await scan(archivePath, archive, options);
  } finally {
    await archive.close();
  }
}

async function scan(archivePath: string, archive: ExportArchive, options: ScanOptions): Promise<ScanResult> {
  const { profile, config } = options;
  const manifest = await readManifest(archive);
  checkRefusals(profile, manifest, basename(archivePath));
  const sha256 = await sha256File(archivePath);
  const problems: Problem[] = [];
  const report = (p: Problem) => {
    problems.push(p);
    options.onProblem?.(p);
  };
  const entities = emptyEntities();
  const evidence = new DateOrderEvidence();
  const aids = new AidCollector();
  let rowsRead = 0;
  for (const p of archiveProblems(archive, profile)) report(p);

  const spec = (name: string): TableSpec => {
    const s = profile.tables.find((t) => t.name === name);
    if (!s) throw new Error(`profile ${profile.system} has no table ${name}`);
    return s;
  };

  /**
   * Streams one table: whole-file checks, then its rows in chunks through the batch core
   * (`mapRows`, MapBatch's too), so the dry run decides each row as the live run's mapper does.
   */
  async function table(
    name: TableName,
    entity: EntityKey,
    core: Omit<MapRowsInput, 'table' | 'file' | 'rows' | 'profile' | 'evidence' | 'exportDate' | 'aids'>,
    onRow: (row: MappedRow, file: string, source: SourceRow) => void | Promise<void>,
  ): Promise<void> {
    const t = spec(name);
    const file = findTable(archive, t);
    if (!file) {
      report({
        entity,
        sourceId: '',
        file: t.files[0] ?? name,
        row: 0,
        field: '',
        code: 'TABLE_MISSING',
        severity: 'info',
        message: `${t.files[0]} is not in the export; no ${name} are migrated`,
      });
      return;
    }
    const exportDate = exportDateOf(manifest?.exportedAt);
    const counts = entities[entity];
    let chunk: SourceRow[] = [];
    const flush = async () => {
      if (!chunk.length) return;
      const rows = chunk;
      chunk = [];
      const mapped = mapRows({
        ...core,
        table: name,
        file,
        rows,
        profile,
        evidence,
        aids,
        ...(exportDate ? { exportDate } : {}),
      });
      for (const p of mapped.problems) report(p);
      for (const o of mapped.outcomes) options.onOutcome?.(o);
      counts.planned += mapped.counts.planned;
      counts.skipped += mapped.counts.skipped;
      counts.invalid += mapped.counts.invalid;
      for (const [i, m] of mapped.rows.entries()) {
        const source = rows[i];
        if (source) await onRow(m, file, source);
      }
    };
    let rows = 0;
    for await (const event of splitTable(archive, file, t, entity, report)) {
      rows++;
      rowsRead++;
      counts.source++;
      if (event.kind === 'row') {
        chunk.push(event.row);
        if (chunk.length >= CHUNK_ROWS) await flush();
      } else {
        // problems stay in file order: the rows before this one are settled first
        await flush();
        if (event.kind === 'duplicate') {
          report(event.problem);
          counts.skipped++;
        } else {
          counts.invalid++;
          if (entity === 'patients') aids.client(event.row, file, 'invalid');
          await onRow(
            { row: event.row.row, key: event.row.values[t.key] ?? '', outcome: 'invalid' },
            file,
            event.row,
          );
        }
      }
      if (rows % 10_000 === 0) options.onProgress?.({ table: name, file, rows, done: false });
    }
    await flush();
    options.onProgress?.({ table: name, file, rows, done: true });
  }

  const { locations, practitioners, rowOf, files } = await readReferenceTables(
    archive,
    profile,
    config,
    report,
  );
  const cliniko = await options.cliniko({ locations, practitioners });
  const prac = resolvePractitioners(practitioners, cliniko.practitioners, config);
  const locs = resolveLocations(locations, cliniko.businesses, config, manifest?.timeZone);
  for (const n of locs.notes)
    report({ entity: 'locations', file: files.locations, row: rowOf.get(`L:${n.sourceId}`) ?? 0, ...n });
  for (const n of prac.notes)
    report({
      entity: 'practitioners',
      file: files.practitioners,
      row: rowOf.get(`P:${n.sourceId}`) ?? 0,
      ...n,
    });

  const typeIds = new Set<string>();
  const contactIds = { employer: new Set<string>(), referrer: new Set<string>(), debtor: new Set<string>() };
  const patientOutcomes = new Map<string, RowOutcome>();
  const refs = references({
    patient: (id) => patientOutcomes.get(id),
    contact: (kind, id) => contactIds[kind].has(id),
    location: (id) => locs.refs.get(id),
    practitioner: (id) => prac.refs.get(id),
    appointmentType: (id) => typeIds.has(id),
    defaultTimeZone: locs.defaultTimeZone,
    entry: (path) => archive.match(path),
  });
  const run: BatchRun = {
    config,
    practitioners: Object.fromEntries(prac.refs),
    locations: Object.fromEntries(locs.refs),
    ...(locs.defaultBusinessId ? { defaultBusinessId: locs.defaultBusinessId } : {}),
    defaultTimeZone: locs.defaultTimeZone,
    exportedAt: manifest?.exportedAt ?? new Date().toISOString(),
  };

  let needsMigratedType = false;
  for (const { table: name, entity } of TABLES) {
    await table(name, entity, { run, refs }, async (m, file, row) => {
      if (entity === 'patients') {
        const id = row.values.ClientId ?? '';
        if (id && !patientOutcomes.has(id))
          patientOutcomes.set(id, m.outcome === 'failed' ? 'invalid' : m.outcome);
      }
      const p = m.planned;
      if (!p) return;
      const at = { file, row: m.row };
      switch (p.entity) {
        case 'appointmentTypes':
          typeIds.add(p.record.sourceId);
          break;
        case 'contacts':
          contactIds[p.record.kind].add(p.record.sourceId);
          break;
        case 'patients':
          if (cliniko.existingPatientRefs.has(p.record.sourceId)) {
            // the record exists from an earlier run: counted as already present, not planned
            entities.patients.planned--;
            entities.patients.alreadyPresent++;
            return;
          }
          break;
        case 'appointments': {
          if (!p.record.appointmentTypeSourceId) needsMigratedType = true;
          const businessId =
            (p.record.locationSourceId ? locs.refs.get(p.record.locationSourceId)?.businessId : undefined) ??
            locs.defaultBusinessId;
          await options.onPlanned?.(
            { ...p, businessId, practitionerId: prac.refs.get(p.record.practitionerSourceId)?.clinikoId },
            at,
          );
          return;
        }
      }
      await options.onPlanned?.(p, at);
    });
  }

  const excluded = await countExcluded(archive, profile);
  rowsRead += Object.values(excluded).reduce((a, b) => a + b, 0);
  for (const p of dateOrderProblems(evidence)) report(p);

  return {
    source: { system: profile.system, file: basename(archivePath), sha256 },
    manifest,
    entities,
    excluded,
    problems,
    rowsRead,
    defaultBusinessId: locs.defaultBusinessId,
    defaultTimeZone: locs.defaultTimeZone,
    names: {
      practitioners: Object.fromEntries(
        [...prac.refs].flatMap(([id, r]) => (r.name ? [[id, r.name] as const] : [])),
      ),
      locations: Object.fromEntries(
        [...locs.refs].flatMap(([id, r]) => (r.name ? [[id, r.name] as const] : [])),
      ),
    },
    needsMigratedType,
    aids: aids.snapshot(),
  };
}
