/**
 * The CSV record grammar of docs/EXPORT-FORMAT.md ("CSV conventions": comma-separated, `"`-quoted
 * fields that may hold commas, doubled quotes and line breaks, CRLF or LF), with the recovery real
 * exports need, which general CSV libraries do not offer:
 * - a quote inside a quoted field that is not doubled and not followed by a comma or line end is
 *   kept as text (`"Pt says "no running" for 2 weeks"` stays one field), and the record says which
 *   fields needed that (`strayQuoteFields`), so the caller can report or hold the row back;
 * - a quote that is never closed ends the file: the records before it are whole, and `end()`
 *   says where the unreadable rest starts.
 * It is resumable: text is pushed chunk by chunk and memory holds only the current record.
 */
export interface CsvRecord {
  readonly fields: string[];
  /** Indexes of fields whose quoting was broken and recovered. */
  readonly strayQuoteFields: number[];
  /** Physical line (1-based) where the record starts. */
  readonly line: number;
}

export interface UnterminatedQuote {
  /** Physical line of the record whose quote never closes. */
  readonly line: number;
  /** Index of the field the quote opened. */
  readonly field: number;
  /** Physical lines from that record to the end of the file. */
  readonly lines: number;
}

type Mode = 'start' | 'unquoted' | 'quoted' | 'quote-seen';

export class CsvRecordParser {
  private fields: string[] = [];
  private field = '';
  private mode: Mode = 'start';
  private stray: number[] = [];
  private line = 1;
  private recordLine = 1;
  private afterCR = false;
  private wasQuoted = false;

  /** Parses a chunk of text; complete records are handed to `emit`. */
  push(text: string, emit: (record: CsvRecord) => void): void {
    const n = text.length;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (this.afterCR) {
        this.afterCR = false;
        if (c === 10) {
          i++;
          continue;
        }
      }
      switch (this.mode) {
        case 'start':
        case 'unquoted': {
          if (this.mode === 'start' && c === 34) {
            this.mode = 'quoted';
            this.wasQuoted = true;
            i++;
            break;
          }
          // fast path: the rest of an unquoted field up to a comma or line end
          let j = i;
          while (j < n) {
            const d = text.charCodeAt(j);
            if (d === 44 || d === 10 || d === 13) break;
            j++;
          }
          this.field += text.slice(i, j);
          this.mode = 'unquoted';
          if (j >= n) {
            i = j;
            break;
          }
          const d = text.charCodeAt(j);
          i = j + 1;
          if (d === 44) this.endField();
          else this.endRecord(d, emit);
          break;
        }
        case 'quoted': {
          const q = text.indexOf('"', i);
          const to = q === -1 ? n : q;
          const part = text.slice(i, to);
          this.field += part;
          for (let k = part.indexOf('\n'); k !== -1; k = part.indexOf('\n', k + 1)) this.line++;
          i = to;
          if (q !== -1) {
            this.mode = 'quote-seen';
            i++;
          }
          break;
        }
        case 'quote-seen': {
          if (c === 34) {
            this.field += '"';
            this.mode = 'quoted';
            i++;
          } else if (c === 44) {
            this.endField();
            i++;
          } else if (c === 10 || c === 13) {
            i++;
            this.endRecord(c, emit);
          } else {
            // not a closing quote: text that was never escaped
            this.field += '"';
            if (!this.stray.includes(this.fields.length)) this.stray.push(this.fields.length);
            this.mode = 'quoted';
          }
          break;
        }
      }
    }
  }

  /** Finishes the text: the last record, or where a never-closed quote made the rest unreadable. */
  end(emit: (record: CsvRecord) => void): UnterminatedQuote | undefined {
    if (this.mode === 'quoted') {
      return { line: this.recordLine, field: this.fields.length, lines: this.line - this.recordLine + 1 };
    }
    if (this.mode !== 'start' || this.fields.length > 0) this.endRecord(10, emit);
    return undefined;
  }

  private endField(): void {
    this.fields.push(this.field);
    this.field = '';
    this.mode = 'start';
  }

  private endRecord(terminator: number, emit: (record: CsvRecord) => void): void {
    const blank = this.fields.length === 0 && this.field === '' && !this.wasQuoted;
    this.endField();
    if (!blank) emit({ fields: this.fields, strayQuoteFields: this.stray, line: this.recordLine });
    this.fields = [];
    this.stray = [];
    this.wasQuoted = false;
    this.line++;
    if (terminator === 13) this.afterCR = true;
    this.recordLine = this.line;
  }
}
