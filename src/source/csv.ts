import { cleanText } from '../core/values.js';
import type { ExportArchive } from './archive.js';
import { type CsvRecord, CsvRecordParser } from './csv-records.js';
import { decode, detectEncoding, type TextEncoding } from './encoding.js';
import { type HeaderMapping, mapHeader, type TableSpec } from './profile.js';

/**
 * One data record of a table, with its record number as docs/REPORT.md defines it (problems.csv's
 * `row`: header = 1).
 */
export interface SourceRow {
  readonly row: number;
  /** Canonical column → trimmed value ('' when empty or absent). */
  readonly values: Readonly<Record<string, string>>;
  /** Columns the profile does not name, in file order (clinical note sections). */
  readonly extra: readonly { readonly header: string; readonly value: string }[];
  /** Number of fields the record had, when it differs from the header's. */
  readonly fieldCountMismatch?: number;
  /** The header's number of fields, given with `fieldCountMismatch`. */
  readonly headerFieldCount?: number;
  /** Header names of fields holding a quote that was neither doubled nor closing (kept as text). */
  readonly strayQuoteFields?: readonly string[];
  /**
   * Set on the one row that stands for the rest of a file whose quote never closes: `field` is the
   * column the quote opened in, `lines` the physical lines left unread.
   */
  readonly unterminatedQuote?: { readonly field: string; readonly lines: number };
  /**
   * Columns named twice whose copies hold different values in this row (issue 25): `field` is the
   * header as written, `kept` the value read (the first copy holding one), `others` the rest.
   */
  readonly columnConflicts?: readonly ColumnConflict[];
  /**
   * Fields whose text held invisible characters or Unicode spaces (issue 25): every cell is
   * cleaned once here (`cleanText`), before any field check, so every reader sees the same value.
   * Named as problems are: the profile's column, else the header as written.
   */
  readonly cleanedFields?: readonly CleanedField[];
}

/** What the one cleaning of text cells (`cleanText`) changed in a field: character labels, each once. */
export interface CleanedField {
  readonly field: string;
  readonly removed: readonly string[];
  readonly replaced: readonly string[];
}

export interface ColumnConflict {
  readonly field: string;
  readonly kept: string;
  readonly others: readonly string[];
}

export interface TableHeader {
  readonly file: string;
  readonly encoding: TextEncoding;
  readonly mapping: HeaderMapping;
  readonly headerFields: readonly string[];
}

export class CsvError extends Error {
  override name = 'CsvError';
  constructor(
    message: string,
    readonly file: string,
    readonly row: number,
  ) {
    super(message);
  }
}

/**
 * Streams a table's rows: the encoding is detected in a first pass, then the file is decoded and
 * parsed record by record (quoted fields may span lines). Memory stays flat however long the file.
 * A quote never closed ends the table with one `unterminated` row standing for the unreadable rest
 * (docs/EXPORT-FORMAT.md, CSV conventions; the rows before it are whole).
 */
export async function* readTable(
  archive: ExportArchive,
  file: string,
  spec: TableSpec,
  onHeader: (header: TableHeader) => void,
): AsyncGenerator<SourceRow> {
  const { encoding } = await detectEncoding(await archive.open(file));
  const source = await archive.open(file);
  const parser = new CsvRecordParser();
  let record = 0;
  let header: string[] | undefined;
  let mapping: HeaderMapping | undefined;
  /** Column index → the name its problems carry: the profile's column, else the header as written. */
  let nameOf = new Map<number, string>();
  const ready: SourceRow[] = [];
  const take = (r: CsvRecord) => {
    const fields = r.fields;
    record++;
    if (!header || !mapping) {
      // a header name is cleaned alike, so `Email` followed by a zero-width space is still Email
      header = fields.map((f) => cleanText(f).value);
      mapping = mapHeader(header, spec);
      nameOf = namesOf(header, mapping, spec);
      // Rows still come when required columns are missing: the caller counts them invalid,
      // so no row vanishes from the report.
      onHeader({ file, encoding, mapping, headerFields: header });
      return;
    }
    const names = header;
    const conflicts: ColumnConflict[] = [];
    const cleaned: CleanedField[] = [];
    const { copies } = mapping;
    /** One cell cleaned (`cleanText`); what was removed or replaced is kept for the row's report. */
    const cell = (index: number): string => {
      const raw = fields[index] ?? '';
      const c = cleanText(raw);
      const field = nameOf.get(index);
      if (field !== undefined && (c.removed.length || c.replaced.length))
        cleaned.push({ field, removed: c.removed, replaced: c.replaced });
      return c.value;
    };
    /** A column's value: the first of its copies that holds one (a later copy is often empty). */
    const valueAt = (index: number): string => {
      const first = cell(index);
      const more = copies.get(index);
      if (!more) return first;
      const held = [first, ...more.map(cell)].filter((v) => v !== '');
      const [kept = '', ...rest] = held;
      const others = [...new Set(rest.filter((v) => v.normalize('NFC') !== kept.normalize('NFC')))];
      if (others.length) conflicts.push({ field: nameOf.get(index) ?? `field ${index + 1}`, kept, others });
      return kept;
    };
    const values: Record<string, string> = {};
    for (const column of Object.keys(spec.columns)) values[column] = '';
    for (const [index, column] of mapping.indexToColumn) values[column] = valueAt(index);
    const extra = mapping.unknown.map(({ index, header: h }) => ({ header: h, value: valueAt(index) }));
    ready.push({
      row: record,
      values,
      extra,
      ...(fields.length !== header.length
        ? { fieldCountMismatch: fields.length, headerFieldCount: header.length }
        : {}),
      ...(r.strayQuoteFields.length
        ? { strayQuoteFields: r.strayQuoteFields.map((i) => names[i] ?? `field ${i + 1}`) }
        : {}),
      ...(conflicts.length ? { columnConflicts: conflicts } : {}),
      ...(cleaned.length ? { cleanedFields: mergeCleaned(cleaned) } : {}),
    });
  };
  try {
    for await (const text of decode(source, encoding)) {
      parser.push(text, take);
      yield* ready.splice(0);
    }
    const unterminated = parser.end(take);
    yield* ready.splice(0);
    if (unterminated && header) {
      record++;
      const values: Record<string, string> = {};
      for (const column of Object.keys(spec.columns)) values[column] = '';
      yield {
        row: record,
        values,
        extra: [],
        unterminatedQuote: {
          field: header[unterminated.field] ?? `field ${unterminated.field + 1}`,
          lines: unterminated.lines,
        },
      };
    }
  } catch (err) {
    throw new CsvError(
      `${file}: cannot read the file after row ${record}: ${(err as Error).message}`,
      file,
      record + 1,
    );
  } finally {
    source.destroy();
  }
  if (!header) onHeader({ file, encoding, mapping: mapHeader([], spec), headerFields: [] });
}

/**
 * The name each reported column's problems carry: the profile's column for mapped ones (and their
 * later copies), the header for content columns (`sectionsFromUnknownColumns`). Ignored columns
 * have none: what they hold is never read, so it is not reported either.
 */
function namesOf(header: readonly string[], mapping: HeaderMapping, spec: TableSpec): Map<number, string> {
  const names = new Map<number, string>(mapping.indexToColumn);
  if (spec.sectionsFromUnknownColumns) for (const u of mapping.unknown) names.set(u.index, u.header);
  for (const [first, later] of mapping.copies)
    for (const i of later) names.set(i, names.get(first) ?? header[first] ?? `field ${first + 1}`);
  return names;
}

/** One entry per field (a column's copies are one field), labels each once. */
function mergeCleaned(list: readonly CleanedField[]): CleanedField[] {
  const by = new Map<string, { removed: Set<string>; replaced: Set<string> }>();
  for (const c of list) {
    const m = by.get(c.field) ?? { removed: new Set<string>(), replaced: new Set<string>() };
    for (const r of c.removed) m.removed.add(r);
    for (const r of c.replaced) m.replaced.add(r);
    by.set(c.field, m);
  }
  return [...by].map(([field, m]) => ({ field, removed: [...m.removed], replaced: [...m.replaced] }));
}
