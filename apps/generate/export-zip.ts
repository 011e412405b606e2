import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

/**
 * How a table's text is encoded: exports mix UTF-8, UTF-8 with a BOM and Windows-1252
 * (docs/EXPORT-FORMAT.md).
 */
export type TableEncoding = 'utf8' | 'utf8-bom' | 'windows-1252';

function csvField(v: string | number | undefined): string {
  const s = v === undefined ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One CSV record, CRLF-terminated, quoting only the fields that need it. */
export function csvLine(values: readonly (string | number | undefined)[]): string {
  return `${values.map(csvField).join(',')}\r\n`;
}

export const pad = (n: number) => String(n).padStart(2, '0');
/** A UTC date as Gensolve writes it: `dd/mm/yyyy`. */
export const dmy = (d: Date) => `${pad(d.getUTCDate())}/${pad(d.getUTCMonth() + 1)}/${d.getUTCFullYear()}`;

/** A Windows-1252 encoder for the characters the generator uses. */
function windows1252(text: string): Buffer {
  const special: Record<string, number> = {
    '€': 0x80,
    '‘': 0x91,
    '’': 0x92,
    '“': 0x93,
    '”': 0x94,
    '–': 0x96,
    '—': 0x97,
  };
  const bytes = Buffer.alloc(text.length);
  let i = 0;
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 63;
    bytes[i++] = special[ch] ?? (code < 256 ? code : 63);
  }
  return bytes.subarray(0, i);
}

/**
 * The export's zip, its entries in the order they are added, every one dated `mtime` (epoch ms) so
 * the same seed gives the same bytes. A table's lines are generated only when the zip reads its
 * entry (entries are read one after another), so memory stays flat at any size and the tables
 * draw from the seeded random source in entry order.
 */
export class ExportZip {
  private readonly zip = new yazl.ZipFile();

  constructor(private readonly mtime: number) {}

  /** A CSV table whose lines come from `lines`, gathered into 64 KiB chunks and encoded. */
  addTable(name: string, lines: () => Iterable<string>, encoding: TableEncoding = 'utf8'): void {
    const encode = (text: string) =>
      encoding === 'windows-1252' ? windows1252(text) : Buffer.from(text, 'utf8');
    const stream = Readable.from(
      (function* () {
        if (encoding === 'utf8-bom') yield Buffer.from([0xef, 0xbb, 0xbf]);
        // lines are gathered into 64 KiB chunks: one write per line would cost more than the data
        let pending = '';
        for (const line of lines()) {
          pending += line;
          if (pending.length >= 65_536) {
            yield encode(pending);
            pending = '';
          }
        }
        if (pending) yield encode(pending);
      })(),
    );
    this.zip.addReadStream(stream, name, { mtime: new Date(this.mtime) });
  }

  /** A file held whole (the manifest, documents). */
  addFile(name: string, bytes: Buffer): void {
    this.zip.addBuffer(bytes, name, { mtime: new Date(this.mtime) });
  }

  /**
   * A file of `size` bytes read from `stream` as the zip is written, stored as it is (documents are
   * scans and PDFs, already compressed, as in real exports): never held whole.
   */
  addStream(name: string, stream: Readable, size: number): void {
    this.zip.addReadStream(stream, name, { mtime: new Date(this.mtime), compress: false, size });
  }

  /** Ends the zip and writes it to `outPath`. */
  async write(outPath: string): Promise<void> {
    this.zip.end();
    await pipeline(this.zip.outputStream, createWriteStream(outPath));
  }
}
