import { parse } from 'csv-parse';
import type { ExportArchive } from './archive.js';
import { decode, detectEncoding, type TextEncoding } from './encoding.js';
import { type HeaderMapping, mapHeader, type TableSpec } from './profile.js';

/** One data record of a table, with its record number as CONTRACT.md defines it (header = 1). */
export interface SourceRow {
  readonly row: number;
  /** Canonical column → trimmed value ('' when empty or absent). */
  readonly values: Readonly<Record<string, string>>;
  /** Columns the profile does not name, in file order (clinical note sections). */
  readonly extra: readonly { readonly header: string; readonly value: string }[];
  /** Number of fields the record had, when it differs from the header's. */
  readonly fieldCountMismatch?: number;
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
 */
export async function* readTable(
  archive: ExportArchive,
  file: string,
  spec: TableSpec,
  onHeader: (header: TableHeader) => void,
): AsyncGenerator<SourceRow> {
  const { encoding } = await detectEncoding(await archive.open(file));
  const parser = parse({ relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true });
  const source = await archive.open(file);
  // feed the parser from the decoder without buffering the file
  const feed = (async () => {
    try {
      for await (const text of decode(source, encoding)) {
        if (!parser.write(text)) await new Promise((r) => parser.once('drain', r));
      }
      parser.end();
    } catch (err) {
      parser.destroy(err as Error);
    }
  })();

  let record = 0;
  let header: string[] | undefined;
  let mapping: HeaderMapping | undefined;
  try {
    for await (const fields of parser as AsyncIterable<string[]>) {
      record++;
      if (!header || !mapping) {
        header = fields.map((f) => f.trim());
        mapping = mapHeader(header, spec);
        // Rows still come when required columns are missing: the caller counts them invalid,
        // so no row vanishes from the report.
        onHeader({ file, encoding, mapping, headerFields: header });
        continue;
      }
      const values: Record<string, string> = {};
      for (const column of Object.keys(spec.columns)) values[column] = '';
      for (const [index, column] of mapping.indexToColumn) values[column] = (fields[index] ?? '').trim();
      const extra = mapping.unknown.map(({ index, header: h }) => ({
        header: h,
        value: (fields[index] ?? '').trim(),
      }));
      yield {
        row: record,
        values,
        extra,
        ...(fields.length !== header.length ? { fieldCountMismatch: fields.length } : {}),
      };
    }
  } catch (err) {
    throw new CsvError(
      `${file}: cannot parse CSV after row ${record}: ${(err as Error).message}`,
      file,
      record + 1,
    );
  } finally {
    source.destroy();
    await feed.catch(() => undefined);
  }
  if (!header) onHeader({ file, encoding, mapping: mapHeader([], spec), headerFields: [] });
}
