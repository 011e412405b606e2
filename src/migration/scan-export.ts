import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename } from 'node:path';
import type { MigrationConfig } from '../config/migration-config.js';
import { type MappingIssue, mapAppointmentType, mapContact, mapPatient } from '../mapping/cliniko-bodies.js';
import type * as M from '../model/canonical.js';
import type { Problem, RowOutcome, RowResult } from '../report/problem.js';
import {
  type ClinikoBusiness,
  type ClinikoPractitioner,
  resolveLocations,
  resolvePractitioners,
} from '../resolve/references.js';
import { type ExportArchive, openArchive, safeEntryPath } from '../source/archive.js';
import * as B from '../source/builders.js';
import { readTable, type SourceRow, type TableHeader } from '../source/csv.js';
import type { SourceProfile, TableSpec } from '../source/profile.js';
import { DateOrderEvidence } from '../source/values.js';
import { type EntityCounts, type EntityKey, emptyEntities, tableKey } from './entities.js';

/** What Cliniko would refuse or lose, found before anything is sent: ids are placeholders here. */
function mappingIssues(planned: PlannedRecord): readonly MappingIssue[] {
  switch (planned.entity) {
    case 'patients':
      return mapPatient(
        planned.record,
        (e, id) => `${e}:${id}`,
        () => false,
      ).issues;
    case 'contacts':
      return mapContact(planned.record).issues;
    case 'appointmentTypes':
      return mapAppointmentType(planned.record).issues;
    default:
      return [];
  }
}

/**
 * Reads an export from end to end, in dependency order, and gives every data row of every
 * transferable table exactly one outcome. Planned records are handed to `onPlanned` (a dry run
 * only counts them; a live run writes them). Nothing here writes to Cliniko.
 */
export class ExportRefusedError extends Error {
  override name = 'ExportRefusedError';
}

export interface Manifest {
  readonly system?: string;
  readonly exportedAt?: string;
  readonly timeZone?: string;
}

export interface ClinikoReferenceData {
  readonly practitioners: readonly ClinikoPractitioner[];
  readonly businesses: readonly ClinikoBusiness[];
  /** `old_reference_id`s of patients already in Cliniko. */
  readonly existingPatientRefs: ReadonlySet<string>;
}

export type PlannedRecord =
  | { entity: 'appointmentTypes'; record: M.AppointmentType }
  | { entity: 'contacts'; record: M.Contact }
  | { entity: 'patients'; record: M.Patient }
  | {
      entity: 'appointments';
      record: M.Appointment;
      businessId: string | undefined;
      practitionerId: string | undefined;
    }
  | { entity: 'clinicalNotes'; record: M.ClinicalNote }
  | { entity: 'letters' | 'fileUploads'; record: M.Document };

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
  readonly onPlanned?: (planned: PlannedRecord, row: { file: string; row: number }) => void | Promise<void>;
  readonly onProblem?: (problem: Problem) => void;
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
  /** Appointment types to create: the export's, plus "Migrated appointment" when needed. */
  readonly needsMigratedType: boolean;
}

export async function sha256File(path: string): Promise<string> {
  const info = await stat(path);
  if (info.isDirectory()) return '';
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export async function readManifest(archive: ExportArchive): Promise<Manifest | undefined> {
  const entry = archive.find('manifest.json');
  if (!entry) return undefined;
  let text = '';
  for await (const chunk of await archive.open(entry.path)) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length > 1_000_000) break;
  }
  try {
    return JSON.parse(text.replace(/^\uFEFF/, '')) as Manifest;
  } catch {
    return undefined;
  }
}

function findTable(archive: ExportArchive, spec: TableSpec): string | undefined {
  for (const file of spec.files) {
    const found = archive.find(file);
    if (found) return found.path;
  }
  return undefined;
}

export async function scanExport(archivePath: string, options: ScanOptions): Promise<ScanResult> {
  const { profile, config } = options;
  const archive = await openArchive(archivePath);
  try {
    return await scan(archivePath, archive, options, profile, config);
  } finally {
    await archive.close();
  }
}

async function scan(
  archivePath: string,
  archive: ExportArchive,
  options: ScanOptions,
  profile: SourceProfile,
  config: MigrationConfig,
): Promise<ScanResult> {
  const manifest = await readManifest(archive);
  for (const rule of profile.refuse) {
    if (manifest?.system?.includes(rule.manifestSystemContains))
      throw new ExportRefusedError(`${basename(archivePath)}: ${rule.message}`);
  }
  const sha256 = await sha256File(archivePath);
  const problems: Problem[] = [];
  const report = (p: Problem) => {
    problems.push(p);
    options.onProblem?.(p);
  };
  const entities = emptyEntities();
  const excluded: Record<string, number> = {};
  const evidence = new DateOrderEvidence();
  let rowsRead = 0;

  for (const rejected of archive.rejected) {
    report({
      entity: 'export',
      sourceId: '',
      file: rejected.rawPath,
      row: 0,
      field: '',
      code: 'UNSAFE_ENTRY',
      severity: 'error',
      message: `"${rejected.rawPath}" points outside the export; it was not read`,
    });
  }

  const specs = new Map(profile.tables.map((t) => [t.name, t]));
  const spec = (name: string): TableSpec => {
    const s = specs.get(name);
    if (!s) throw new Error(`profile ${profile.system} has no table ${name}`);
    return s;
  };

  // Files the profile does not know are listed once; documents live in their folders.
  const known = new Set(
    [...profile.tables.flatMap((t) => t.files), ...profile.excluded, 'manifest.json'].map((f) =>
      f.toLowerCase(),
    ),
  );
  const docFolders = profile.documentFolders.map((f) => `${f.toLowerCase()}/`);
  for (const entry of archive.entries) {
    const lower = entry.path.toLowerCase();
    if (known.has(lower) || docFolders.some((f) => lower.startsWith(f))) continue;
    if (lower.endsWith('.csv') && !lower.includes('/')) {
      report({
        entity: 'export',
        sourceId: '',
        file: entry.path,
        row: 0,
        field: '',
        code: 'UNKNOWN_TABLE',
        severity: 'info',
        message: `${entry.path} is not a table this profile knows; ignored`,
      });
    }
  }

  /** Streams one table through a builder, handling duplicates and file-level problems. */
  async function table<T>(
    name: string,
    entity: EntityKey | undefined,
    build: (row: SourceRow, ctx: B.RowContext) => RowResult<T>,
    refs: B.References,
    onResult: (result: RowResult<T>, row: SourceRow, file: string) => void | Promise<void>,
    toPlanned?: (record: T) => PlannedRecord,
  ): Promise<void> {
    const t = spec(name);
    const file = findTable(archive, t);
    if (!file) {
      report({
        entity: entity ?? name,
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
    const ctx: B.RowContext = { file, entity: entity ?? name, profile, config, refs, evidence };
    const seen = new Set<string>();
    let header: TableHeader | undefined;
    let rows = 0;
    const counts = entity ? entities[entity] : undefined;
    for await (const row of readTable(archive, file, t, (h) => {
      header = h;
      for (const missing of h.mapping.missingRequired) {
        report({
          entity: entity ?? name,
          sourceId: '',
          file,
          row: 1,
          field: missing,
          code: 'MISSING_COLUMN',
          severity: 'error',
          message: `${file} has no ${missing} column, which is required; its rows cannot be read`,
        });
      }
      if (h.mapping.unknown.length && !t.sectionsFromUnknownColumns) {
        const names = h.mapping.unknown.map((u) => u.header).join(', ');
        report({
          entity: entity ?? name,
          sourceId: '',
          file,
          row: 1,
          field: names,
          code: 'UNKNOWN_COLUMNS',
          severity: 'info',
          message: `${file}: columns ignored: ${names}`,
        });
      }
    })) {
      rows++;
      rowsRead++;
      if (counts) counts.source++;
      if (header?.mapping.missingRequired.length) {
        if (counts) counts.invalid++;
        await onResult({ outcome: 'invalid', problems: [] }, row, file);
        continue;
      }
      const key = row.values[t.key] ?? '';
      if (key && seen.has(key)) {
        const problem: Problem = {
          entity: entity ?? name,
          sourceId: key,
          file,
          row: row.row,
          field: t.key,
          code: 'DUPLICATE_KEY',
          severity: 'info',
          message: `${t.key} ${key} appears earlier in ${file}; the first row wins`,
        };
        report(problem);
        if (counts) counts.skipped++;
        continue;
      }
      if (key) seen.add(key);
      let result = build(row, ctx);
      if (result.record !== undefined && toPlanned) {
        const issues = mappingIssues(toPlanned(result.record));
        if (issues.length) {
          const extra: Problem[] = issues.map((i) => ({
            entity: entity ?? name,
            sourceId: key,
            file,
            row: row.row,
            ...i,
          }));
          const invalid = issues.some((i) => i.severity === 'error');
          result = invalid
            ? { outcome: 'invalid', problems: [...result.problems, ...extra] }
            : { ...result, problems: [...result.problems, ...extra] };
        }
      }
      for (const p of result.problems) report(p);
      if (counts) counts[result.outcome]++;
      await onResult(result, row, file);
      if (rows % 10_000 === 0) options.onProgress?.({ table: name, file, rows, done: false });
    }
    options.onProgress?.({ table: name, file, rows, done: true });
  }

  // Reference data first: locations and practitioners are matched, not migrated.
  const locations: M.Location[] = [];
  const practitioners: M.Practitioner[] = [];
  const locationRows = new Map<string, number>();
  const practitionerRows = new Map<string, number>();
  const noRefs: B.References = {
    patient: () => undefined,
    contact: () => false,
    location: () => undefined,
    practitioner: () => undefined,
    appointmentType: () => false,
    defaultTimeZone: 'UTC',
    document: () => undefined,
  };
  await table('locations', undefined, B.buildLocation, noRefs, (r, row) => {
    if (r.record) {
      locations.push(r.record);
      locationRows.set(r.record.sourceId, row.row);
    }
  });
  await table('practitioners', undefined, B.buildPractitioner, noRefs, (r, row) => {
    if (r.record) {
      practitioners.push(r.record);
      practitionerRows.set(r.record.sourceId, row.row);
    }
  });

  const cliniko = await options.cliniko({ locations, practitioners });
  const prac = resolvePractitioners(practitioners, cliniko.practitioners, config);
  const locs = resolveLocations(locations, cliniko.businesses, config, manifest?.timeZone);
  const locationsFile = findTable(archive, spec('locations')) ?? 'Locations.csv';
  const practitionersFile = findTable(archive, spec('practitioners')) ?? 'Practitioners.csv';
  for (const n of locs.notes)
    report({ entity: 'locations', file: locationsFile, row: locationRows.get(n.sourceId) ?? 0, ...n });
  for (const n of prac.notes)
    report({
      entity: 'practitioners',
      file: practitionersFile,
      row: practitionerRows.get(n.sourceId) ?? 0,
      ...n,
    });

  const typeIds = new Set<string>();
  const contactIds = { employer: new Set<string>(), referrer: new Set<string>(), debtor: new Set<string>() };
  const patientOutcomes = new Map<string, RowOutcome>();
  const refs: B.References = {
    patient: (id) => patientOutcomes.get(id),
    contact: (kind, id) => contactIds[kind].has(id),
    location: (id) => locs.refs.get(id),
    practitioner: (id) => prac.refs.get(id),
    appointmentType: (id) => typeIds.has(id),
    defaultTimeZone: locs.defaultTimeZone,
    document: (path) => {
      const safe = safeEntryPath(path);
      if (safe === undefined) return 'escapes';
      const entry = archive.find(safe);
      return entry ? { path: entry.path, size: entry.size } : undefined;
    },
  };
  const planned = async (p: PlannedRecord, file: string, row: SourceRow) =>
    options.onPlanned?.(p, { file, row: row.row });

  await table(
    'appointmentTypes',
    'appointmentTypes',
    B.buildAppointmentType,
    refs,
    async (r, row, file) => {
      if (!r.record) return;
      typeIds.add(r.record.sourceId);
      await planned({ entity: 'appointmentTypes', record: r.record }, file, row);
    },
    (record) => ({ entity: 'appointmentTypes', record }),
  );
  for (const kind of ['employer', 'referrer', 'debtor'] as const) {
    await table(
      `${kind}s`,
      'contacts',
      (row, ctx) => B.buildContact(kind, row, ctx),
      refs,
      async (r, row, file) => {
        if (!r.record) return;
        contactIds[kind].add(r.record.sourceId);
        await planned({ entity: 'contacts', record: r.record }, file, row);
      },
      (record) => ({ entity: 'contacts', record }),
    );
  }
  await table(
    'clients',
    'patients',
    B.buildPatient,
    refs,
    async (r, row, file) => {
      const id = row.values.ClientId ?? '';
      if (id && !patientOutcomes.has(id)) patientOutcomes.set(id, r.outcome);
      if (!r.record) return;
      if (cliniko.existingPatientRefs.has(r.record.sourceId)) {
        // counted as already present rather than planned: the record exists from an earlier run
        entities.patients.planned--;
        entities.patients.alreadyPresent++;
        return;
      }
      await planned({ entity: 'patients', record: r.record }, file, row);
    },
    (record) => ({ entity: 'patients', record }),
  );
  let needsMigratedType = false;
  await table('appointments', 'appointments', B.buildAppointment, refs, async (r, row, file) => {
    if (!r.record) return;
    if (!r.record.appointmentTypeSourceId) needsMigratedType = true;
    const businessId =
      (r.record.locationSourceId ? locs.refs.get(r.record.locationSourceId)?.businessId : undefined) ??
      locs.defaultBusinessId;
    await planned(
      {
        entity: 'appointments',
        record: r.record,
        businessId,
        practitionerId: prac.refs.get(r.record.practitionerSourceId)?.clinikoId,
      },
      file,
      row,
    );
  });
  await table('clinicalNotes', 'clinicalNotes', B.buildClinicalNote, refs, async (r, row, file) => {
    if (r.record) await planned({ entity: 'clinicalNotes', record: r.record }, file, row);
  });
  await table(
    'letters',
    'letters',
    (row, ctx) => B.buildDocument('letter', row, ctx),
    refs,
    async (r, row, file) => {
      if (r.record) await planned({ entity: 'letters', record: r.record }, file, row);
    },
  );
  await table(
    'uploads',
    'fileUploads',
    (row, ctx) => B.buildDocument('upload', row, ctx),
    refs,
    async (r, row, file) => {
      if (r.record) await planned({ entity: 'fileUploads', record: r.record }, file, row);
    },
  );

  // Financial tables are counted, never migrated.
  for (const name of profile.excluded) {
    const entry = archive.find(name);
    if (!entry) continue;
    let n = 0;
    const anySpec: TableSpec = {
      name: tableKey(name),
      files: [entry.path],
      key: '',
      required: [],
      columns: {},
    };
    for await (const _ of readTable(archive, entry.path, anySpec, () => undefined)) n++;
    excluded[tableKey(entry.path)] = n;
    rowsRead += n;
  }

  for (const a of evidence.ambiguous()) {
    report({
      entity: 'export',
      sourceId: '',
      file: a.file,
      row: 0,
      field: a.column,
      code: 'DATE_ORDER_AMBIGUOUS',
      severity: 'warning',
      message: `no ${a.column} value in ${a.file} has a day over 12, so day and month could be swapped in all ${a.values}; check a few against the old system`,
    });
  }

  return {
    source: { system: profile.system, file: basename(archivePath), sha256 },
    manifest,
    entities,
    excluded,
    problems,
    rowsRead,
    defaultBusinessId: locs.defaultBusinessId,
    defaultTimeZone: locs.defaultTimeZone,
    needsMigratedType,
  };
}
