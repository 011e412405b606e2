import type { Readable } from 'node:stream';

/**
 * `utf-8+windows-1252`: a file that is not valid UTF-8 throughout. Some clinics' files mix rows
 * saved by different tools (docs/EXPORT-FORMAT.md, CSV conventions: text "is left out and reported
 * rather than reaching Cliniko garbled"), so each byte sequence is decoded on its own: a
 * well-formed UTF-8 sequence as UTF-8, any other byte as Windows-1252. A file in Windows-1252 alone
 * decodes the same way.
 */
export type TextEncoding = 'utf-8' | 'utf-16le' | 'utf-8+windows-1252';

/**
 * Decides a file's encoding by reading it once: a BOM settles it; otherwise UTF-8 if every byte
 * sequence is valid UTF-8, else per-sequence decoding (`utf-8+windows-1252`). Reading the whole
 * file, not a prefix, means one curly quote on row 90,000 cannot turn into mojibake.
 */
export async function detectEncoding(stream: Readable): Promise<{ encoding: TextEncoding; bom: boolean }> {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let first = true;
  let valid = true;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (first) {
      first = false;
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) {
        stream.destroy();
        return { encoding: 'utf-8', bom: true };
      }
      if (chunk[0] === 0xff && chunk[1] === 0xfe) {
        stream.destroy();
        return { encoding: 'utf-16le', bom: true };
      }
    }
    if (!valid) continue;
    try {
      decoder.decode(chunk, { stream: true });
    } catch {
      valid = false;
      stream.destroy();
      break;
    }
  }
  if (valid) {
    try {
      decoder.decode();
    } catch {
      valid = false;
    }
  }
  return { encoding: valid ? 'utf-8' : 'utf-8+windows-1252', bom: false };
}

/** Decodes a byte stream to text chunks with the given encoding, dropping a leading BOM. */
export async function* decode(stream: Readable, encoding: TextEncoding): AsyncGenerator<string> {
  if (encoding === 'utf-8+windows-1252') {
    const decoder = new MixedDecoder();
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const text = decoder.decode(chunk);
      if (text) yield text;
    }
    const rest = decoder.end();
    if (rest) yield rest;
    return;
  }
  const decoder = new TextDecoder(encoding, { ignoreBOM: false });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/**
 * Windows-1252's 0x80–0x9F; the five bytes it leaves undefined become U+FFFD, which the row
 * builders report (`UNDECODABLE_TEXT`) instead of writing.
 */
const CP1252_HIGH = '€\uFFFD‚ƒ„…†‡ˆ‰Š‹Œ\uFFFDŽ\uFFFD\uFFFD‘’“”•–—˜™š›œ\uFFFDžŸ';

function cp1252(byte: number): string {
  if (byte >= 0x80 && byte <= 0x9f) return CP1252_HIGH[byte - 0x80] ?? '\uFFFD';
  return String.fromCharCode(byte);
}

/** Length of the well-formed UTF-8 sequence at `i` (RFC 3629 table), 0 if there is none, -1 if cut off. */
function utf8SequenceAt(bytes: Uint8Array, i: number): number {
  const b0 = bytes[i] ?? 0;
  let length: number;
  let lo = 0x80;
  let hi = 0xbf;
  if (b0 >= 0xc2 && b0 <= 0xdf) length = 2;
  else if (b0 >= 0xe0 && b0 <= 0xef) {
    length = 3;
    if (b0 === 0xe0) lo = 0xa0;
    if (b0 === 0xed) hi = 0x9f;
  } else if (b0 >= 0xf0 && b0 <= 0xf4) {
    length = 4;
    if (b0 === 0xf0) lo = 0x90;
    if (b0 === 0xf4) hi = 0x8f;
  } else return 0;
  for (let k = 1; k < length; k++) {
    if (i + k >= bytes.length) return -1;
    const b = bytes[i + k] ?? 0;
    if (k === 1 ? b < lo || b > hi : b < 0x80 || b > 0xbf) return 0;
  }
  return length;
}

/** Streaming per-sequence decoder for `utf-8+windows-1252`; a sequence split across chunks is held. */
export class MixedDecoder {
  private held: Uint8Array = new Uint8Array(0);
  private started = false;

  decode(chunk: Uint8Array, final = false): string {
    const bytes = this.held.length ? Buffer.concat([this.held, chunk]) : chunk;
    this.held = new Uint8Array(0);
    let out = '';
    let i = 0;
    if (!this.started && bytes.length) {
      this.started = true;
      if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) i = 3;
    }
    let asciiFrom = i;
    const flushAscii = (to: number) => {
      if (to > asciiFrom)
        out += Buffer.from(bytes.buffer, bytes.byteOffset + asciiFrom, to - asciiFrom).toString('latin1');
    };
    while (i < bytes.length) {
      const b = bytes[i] ?? 0;
      if (b < 0x80) {
        i++;
        continue;
      }
      flushAscii(i);
      const length = utf8SequenceAt(bytes, i);
      if (length === -1 && !final) {
        this.held = bytes.slice(i);
        return out;
      }
      if (length > 0) {
        out += Buffer.from(bytes.buffer, bytes.byteOffset + i, length).toString('utf8');
        i += length;
      } else {
        out += cp1252(b);
        i++;
      }
      asciiFrom = i;
    }
    flushAscii(i);
    return out;
  }

  end(): string {
    return this.held.length ? this.decode(new Uint8Array(0), true) : '';
  }
}

/** Text that was UTF-8 read as Windows-1252 somewhere upstream (`CafÃ©`), or holds undecodable bytes. */
export function looksLikeMojibake(text: string): boolean {
  return (
    /[ÃÂ][\u0080-\u00BF\u2018-\u201E\u2020-\u2122]|Ä[\u0080-\u00BF]|â€/.test(text) || text.includes('\uFFFD')
  );
}
