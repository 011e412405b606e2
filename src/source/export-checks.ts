import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { tableKey } from '../core/entities.js';
import type { Problem } from '../core/problem.js';
import type { DateOrderEvidence } from '../core/values.js';
import { type ExportArchive, osJunkKind } from './archive.js';
import { readTable } from './csv.js';
import type { Manifest } from './manifest.js';
import type { SourceProfile, TableSpec } from './profile.js';

/*
 * Whole-export checks, before and beside the rows: is it an export of a supported system at all,
 * which files are damaged or missing, how many financial rows are left out, which date columns
 * are ambiguous. The dry run's scan and the pipeline's Preflight and Plan share them.
 */

/**
 * Reads an export from end to end in one process, in dependency order, and gives every data row
 * of every transferable table exactly one outcome. It composes the same pieces the pipeline's
 * Lambdas run (whole-file checks, row processing, reference resolution). Nothing is written.
 */
export class ExportRefusedError extends Error {
  override name = 'ExportRefusedError';
}

export async function sha256File(path: string): Promise<string> {
  const info = await stat(path);
  if (info.isDirectory()) return '';
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

/** The refusal rules of the profile (an AEM export, say): throws with the profile's message. */
export function checkRefusals(profile: SourceProfile, manifest: Manifest | undefined, name: string): void {
  for (const rule of profile.refuse) {
    if (manifest?.system?.includes(rule.manifestSystemContains))
      throw new ExportRefusedError(`${name}: ${rule.message}`);
  }
}

/**
 * Refuses what is not an export of the profile's system, before Cliniko is contacted (issue 14):
 * an empty archive or folder, one without the patients' table, one holding no table the profile
 * knows, or a lone table (a Gensolve export is its clinic's tables together: clients with their
 * practitioners, locations and appointments). Throws `ExportRefusedError` saying what was expected.
 */
export function checkIsExport(profile: SourceProfile, archive: ExportArchive, name: string): void {
  const patients = profile.tables.find((t) => t.entity === 'patients');
  const patientFile = patients?.files[0] ?? 'Clients.csv';
  const expected = `expected a ${profile.displayName} export: a .zip (or the folder it was unpacked into) holding its CSV tables, ${patientFile} with ${profile.tables
    .filter((t) => t !== patients)
    .slice(0, 3)
    .map((t) => t.files[0])
    .join(', ')} and the rest (see docs/EXPORT-FORMAT.md)`;
  if (!archive.entries.length) throw new ExportRefusedError(`${name} is empty: ${expected}.`);
  const present = profile.tables.filter((t) => t.files.some((f) => archive.find(f)));
  if (!present.length) {
    const seen = archive.entries.slice(0, 3).map((e) => e.path);
    throw new ExportRefusedError(
      `${name} holds no table of a ${profile.displayName} export (it holds ${seen.join(', ')}${archive.entries.length > 3 ? ', …' : ''}): ${expected}.`,
    );
  }
  if (patients && !present.includes(patients))
    throw new ExportRefusedError(`${name} has no ${patientFile}: ${expected}.`);
  if (present.length === 1)
    throw new ExportRefusedError(
      `${name} holds ${present[0]?.files[0]} alone, not a whole export: ${expected}.`,
    );
}

/**
 * Problems about the archive itself: unsafe entries, files operating systems added (counted in one
 * info problem, `OS_FILES_IGNORED`), and CSV files the profile does not know.
 */
export function archiveProblems(archive: ExportArchive, profile: SourceProfile): Problem[] {
  const problems: Problem[] = archive.rejected.map((r) => ({
    entity: 'export',
    sourceId: '',
    file: r.rawPath,
    row: 0,
    field: '',
    code: 'UNSAFE_ENTRY',
    severity: 'error' as const,
    message: `"${r.rawPath}" points outside the export; it was not read`,
  }));
  if (archive.ignored.length) {
    const n = archive.ignored.length;
    const names = [...new Set(archive.ignored.map((p) => osJunkKind(p) ?? p))];
    problems.push({
      entity: 'export',
      sourceId: '',
      file: '',
      row: 0,
      field: '',
      code: 'OS_FILES_IGNORED',
      severity: 'info',
      message: `${n} file${n === 1 ? '' : 's'} an operating system added to the export (${names.slice(0, 5).join(', ')}${names.length > 5 ? ', …' : ''}) ignored`,
    });
  }
  const known = new Set(
    [...profile.tables.flatMap((t) => t.files), ...profile.excluded, 'manifest.json'].map((f) =>
      f.toLowerCase(),
    ),
  );
  const docFolders = profile.documentFolders.map((f) => `${f.toLowerCase()}/`);
  for (const entry of archive.entries) {
    const lower = entry.path.toLowerCase();
    if (
      known.has(lower) ||
      docFolders.some((f) => lower.startsWith(f)) ||
      !lower.endsWith('.csv') ||
      lower.includes('/')
    )
      continue;
    problems.push({
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
  return problems;
}

/** Counts the data rows of the financial tables: reported under `excluded`, never migrated. */
export async function countExcluded(
  archive: ExportArchive,
  profile: SourceProfile,
): Promise<Record<string, number>> {
  const excluded: Record<string, number> = {};
  for (const name of profile.excluded) {
    const entry = archive.find(name);
    if (!entry) continue;
    const anySpec: TableSpec = {
      name: tableKey(name),
      files: [entry.path],
      key: '',
      required: [],
      columns: {},
    };
    let n = 0;
    for await (const _ of readTable(archive, entry.path, anySpec, () => undefined)) n++;
    excluded[tableKey(entry.path)] = n;
  }
  return excluded;
}

export function dateOrderProblems(evidence: DateOrderEvidence): Problem[] {
  return evidence.ambiguous().map((a) => ({
    entity: 'export',
    sourceId: '',
    file: a.file,
    row: 0,
    field: a.column,
    code: 'DATE_ORDER_AMBIGUOUS',
    severity: 'warning' as const,
    message: `no ${a.column} value in ${a.file} has a day over 12, so day and month could be swapped in all ${a.values}; check a few against the old system`,
  }));
}
