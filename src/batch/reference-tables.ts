import type { MigrationConfig } from '../config/migration-config.js';
import type * as M from '../core/canonical.js';
import type { Problem, RowResult } from '../core/problem.js';
import { DateOrderEvidence } from '../core/values.js';
import type { ExportArchive } from '../source/archive.js';
import type { SourceRow } from '../source/csv.js';
import type { SourceProfile } from '../source/profile.js';
import { findTable, splitTable, tableMissing } from '../source/split-table.js';
import * as B from '../translate/builders.js';
import { references } from './references.js';

/**
 * Reads the export's reference tables (locations, practitioners): they are matched to Cliniko's
 * businesses and practitioners, not migrated. The one reader Preflight and the CLI both use.
 * `rowOf` maps `L:<id>` / `P:<id>` to the row a record came from (1-based, as problems name rows);
 * a table absent from the export is reported once as TABLE_MISSING (info) through `report`.
 */
export async function readReferenceTables(
  archive: ExportArchive,
  profile: SourceProfile,
  config: MigrationConfig,
  report: (p: Problem) => void,
): Promise<{
  locations: M.Location[];
  practitioners: M.Practitioner[];
  rowOf: Map<string, number>;
  files: { locations: string; practitioners: string };
}> {
  const evidence = new DateOrderEvidence();
  const noRefs = references({ defaultTimeZone: 'UTC' });
  const rowOf = new Map<string, number>();
  const read = async <T extends { sourceId: string }>(
    name: string,
    prefix: string,
    build: (row: SourceRow, ctx: B.RowContext) => RowResult<T>,
  ) => {
    const t = profile.tables.find((x) => x.name === name);
    const file = t ? findTable(archive, t) : undefined;
    const out: T[] = [];
    if (!t || !file) {
      report(tableMissing(name, t?.files[0] ?? name));
      return { out, file: t?.files[0] ?? name };
    }
    const ctx: B.RowContext = { file, entity: name, profile, config, refs: noRefs, evidence };
    for await (const event of splitTable(archive, file, t, name, report)) {
      if (event.kind === 'duplicate') report(event.problem);
      if (event.kind !== 'row') continue;
      const result = build(event.row, ctx);
      for (const p of result.problems) report(p);
      if (result.record) {
        out.push(result.record);
        rowOf.set(`${prefix}:${result.record.sourceId}`, event.row.row);
      }
    }
    return { out, file };
  };
  const locations = await read('locations', 'L', B.buildLocation);
  const practitioners = await read('practitioners', 'P', B.buildPractitioner);
  return {
    locations: locations.out,
    practitioners: practitioners.out,
    rowOf,
    files: { locations: locations.file, practitioners: practitioners.file },
  };
}
