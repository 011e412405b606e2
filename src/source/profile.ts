import { z } from 'zod';
import { ENTITY_KEYS } from '../core/entities.js';
import gensolve from './profiles/gensolve.json' with { type: 'json' };

/**
 * A source profile describes an export as data: which files hold which tables, the columns of
 * each (with the aliases real exports use), the required ones, date order and booleans. A clinic
 * whose export names a column differently fixes the profile, not the code.
 */
export const TableSpec = z.object({
  /** The table's name in the report and in problems (lower camel case). */
  name: z.string(),
  /** The report entity its rows count under; reference tables (locations, practitioners) have none. */
  entity: z.enum(ENTITY_KEYS).optional(),
  files: z.array(z.string()).min(1),
  key: z.string(),
  required: z.array(z.string()),
  columns: z.record(z.string(), z.array(z.string())),
  /** Columns the profile does not name are content (clinical note sections), not noise. */
  sectionsFromUnknownColumns: z.boolean().optional(),
});
export type TableSpec = z.infer<typeof TableSpec>;

export const SourceProfile = z.object({
  system: z.string(),
  displayName: z.string(),
  dateOrder: z.enum(['dmy', 'mdy', 'ymd']),
  refuse: z.array(z.object({ manifestSystemContains: z.string(), message: z.string() })).default([]),
  booleans: z.object({ true: z.array(z.string()), false: z.array(z.string()) }),
  documentFolders: z.array(z.string()),
  tables: z.array(TableSpec),
  excluded: z.array(z.string()),
});
export type SourceProfile = z.infer<typeof SourceProfile>;

// Profiles are imported, not read from disk, so they travel inside a bundled Lambda.
const PROFILES: Record<string, unknown> = { gensolve };

export function loadProfile(name = 'gensolve'): SourceProfile {
  const profile = PROFILES[name];
  if (!profile) throw new Error(`no source profile "${name}" (known: ${Object.keys(PROFILES).join(', ')})`);
  return SourceProfile.parse(profile);
}

/** Case, spaces, underscores, hyphens and dots do not distinguish column names. */
export function normaliseHeader(name: string): string {
  return name
    .replace(/^\uFEFF/, '')
    .toLowerCase()
    .replace(/[\s_\-.]+/g, '');
}

export interface HeaderMapping {
  /** Column index → canonical column name. */
  readonly indexToColumn: ReadonlyMap<number, string>;
  /** Required columns the file does not have. */
  readonly missingRequired: readonly string[];
  /** Headers the profile does not know, in file order (sections, for clinical notes). */
  readonly unknown: readonly { readonly index: number; readonly header: string }[];
  /**
   * Columns named twice or more (issue 25): the first copy's index → the later copies' indexes.
   * Profile columns (an alias counts as the same name) and, where unknown columns are content
   * (`sectionsFromUnknownColumns`), unknown ones alike; later copies appear nowhere else.
   */
  readonly copies: ReadonlyMap<number, readonly number[]>;
}

export function mapHeader(header: readonly string[], spec: TableSpec): HeaderMapping {
  const lookup = new Map<string, string>();
  for (const [column, aliases] of Object.entries(spec.columns)) {
    for (const alias of [column, ...aliases]) {
      const key = normaliseHeader(alias);
      if (!lookup.has(key)) lookup.set(key, column);
    }
  }
  const indexToColumn = new Map<number, string>();
  const first = new Map<string, number>();
  const copies = new Map<number, number[]>();
  const unknown: { index: number; header: string }[] = [];
  const copyOf = (key: string, index: number): boolean => {
    const at = first.get(key);
    if (at === undefined) {
      first.set(key, index);
      return false;
    }
    copies.set(at, [...(copies.get(at) ?? []), index]);
    return true;
  };
  header.forEach((raw, index) => {
    const column = lookup.get(normaliseHeader(raw));
    if (column) {
      if (!copyOf(`column:${column}`, index)) indexToColumn.set(index, column);
    } else if (raw.trim() !== '') {
      // an ignored column named twice loses nothing; a section named twice would lose text
      if (spec.sectionsFromUnknownColumns && copyOf(`section:${normaliseHeader(raw)}`, index)) return;
      unknown.push({ index, header: raw.trim() });
    }
  });
  const taken = new Set(indexToColumn.values());
  return {
    indexToColumn,
    missingRequired: spec.required.filter((c) => !taken.has(c)),
    unknown,
    copies,
  };
}
