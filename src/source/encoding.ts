import type { Readable } from 'node:stream';

export type TextEncoding = 'utf-8' | 'utf-16le' | 'windows-1252';

/**
 * Decides a file's encoding by reading it once: a BOM settles it; otherwise UTF-8 if every byte
 * sequence is valid UTF-8, else Windows-1252 (older Gensolve exports). Reading the whole file,
 * not a prefix, means one curly quote on row 90,000 cannot turn into mojibake.
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
  return { encoding: valid ? 'utf-8' : 'windows-1252', bom: false };
}

/** Decodes a byte stream to text chunks with the given encoding, dropping a leading BOM. */
export async function* decode(stream: Readable, encoding: TextEncoding): AsyncGenerator<string> {
  const decoder = new TextDecoder(encoding, { ignoreBOM: false });
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    const text = decoder.decode(chunk, { stream: true });
    if (text) yield text;
  }
  const rest = decoder.decode();
  if (rest) yield rest;
}

/** Text that was UTF-8 read as Windows-1252 somewhere upstream (`CafÃ©`). */
export function looksLikeMojibake(text: string): boolean {
  return /[ÃÂ][\u0080-\u00BF\u2018-\u201E\u2020-\u2122]/.test(text) || text.includes('\uFFFD');
}
