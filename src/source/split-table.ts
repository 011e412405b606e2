import type { Problem } from '../core/problem.js';
import type { ExportArchive } from './archive.js';
import { readTable, type SourceRow, type TableHeader } from './csv.js';
import type { TableSpec } from './profile.js';

/**
 * The whole-file part of reading a table, which must see every row: missing required columns,
 * columns named twice (a warning each), unknown columns (listed once), and keys repeated further
 * down (the first row wins). Rows that
 * survive are handed on, one at a time, to be processed in place or in batches elsewhere.
 */
export type SplitEvent =
  | { readonly kind: 'row'; readonly row: SourceRow }
  /** The row cannot be read: its file lacks a required column (reported once for the file). */
  | { readonly kind: 'unreadable'; readonly row: SourceRow }
  | { readonly kind: 'duplicate'; readonly row: SourceRow; readonly problem: Problem };

/**
 * The one TABLE_MISSING problem (info, docs/REPORT.md "Problem codes"): a table of the profile
 * that the export does not hold. `file` is the profile's first file name for it; `consequence`
 * says what the run does without it (e.g. "no appointments are migrated").
 */
export function tableMissing(entity: string, file: string, consequence?: string): Problem {
  return {
    entity,
    sourceId: '',
    file,
    row: 0,
    field: '',
    code: 'TABLE_MISSING',
    severity: 'info',
    message: `${file} is not in the export${consequence ? `; ${consequence}` : ''}`,
  };
}

export function findTable(archive: ExportArchive, spec: TableSpec): string | undefined {
  for (const file of spec.files) {
    const found = archive.find(file);
    if (found) return found.path;
  }
  return undefined;
}

export async function* splitTable(
  archive: ExportArchive,
  file: string,
  spec: TableSpec,
  entity: string,
  report: (problem: Problem) => void,
): AsyncGenerator<SplitEvent> {
  const seen = new Set<string>();
  let header: TableHeader | undefined;
  for await (const row of readTable(archive, file, spec, (h) => {
    header = h;
    for (const missing of h.mapping.missingRequired) {
      report({
        entity,
        sourceId: '',
        file,
        row: 1,
        field: missing,
        code: 'MISSING_COLUMN',
        severity: 'error',
        message: `${file} has no ${missing} column, which is required; its rows cannot be read`,
      });
    }
    for (const [first, later] of h.mapping.copies) {
      const name = h.headerFields[first] ?? `field ${first + 1}`;
      const at = [first, ...later].map((i) => i + 1).join(', ');
      report({
        entity,
        sourceId: '',
        file,
        row: 1,
        field: name,
        code: 'DUPLICATE_COLUMN',
        severity: 'warning',
        message: `${file} names ${name} ${later.length + 1} times (columns ${at}); each row keeps the first copy that holds a value, and a row whose copies differ is reported`,
      });
    }
    if (h.mapping.unknown.length && !spec.sectionsFromUnknownColumns) {
      const names = h.mapping.unknown.map((u) => u.header).join(', ');
      report({
        entity,
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
    if (row.unterminatedQuote) {
      const { field, lines } = row.unterminatedQuote;
      report({
        entity,
        sourceId: '',
        file,
        row: row.row,
        field,
        code: 'UNTERMINATED_QUOTE',
        severity: 'error',
        message: `a quote opened in ${field} on row ${row.row} is never closed, so this row and the ${lines} line${lines === 1 ? '' : 's'} after its start cannot be read; the rows before it are read`,
      });
      yield { kind: 'unreadable', row };
      continue;
    }
    if (header?.mapping.missingRequired.length) {
      yield { kind: 'unreadable', row };
      continue;
    }
    const key = row.values[spec.key] ?? '';
    if (key && seen.has(key)) {
      yield {
        kind: 'duplicate',
        row,
        problem: {
          entity,
          sourceId: key,
          file,
          row: row.row,
          field: spec.key,
          code: 'DUPLICATE_KEY',
          severity: 'info',
          message: `${spec.key} ${key} appears earlier in ${file}; the first row wins`,
        },
      };
      continue;
    }
    if (key) seen.add(key);
    yield { kind: 'row', row };
  }
}
