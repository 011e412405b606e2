import { type Cipher, createCipheriv, createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { seededRandom } from '../../src/core/random.js';

/** The kinds of document file a clinic's export holds: letters and scans as PDF, photos and scans as JPEG or PNG. */
export type DocumentKind = 'pdf' | 'jpg' | 'png';

/** The smallest and largest generated document (bytes): a one-page letter to a multi-page colour scan. */
export const DOCUMENT_MIN_BYTES = 50 * 1024;
export const DOCUMENT_MAX_BYTES = 40 * 1024 ** 2;
/** A letter is a page or a few of text: 50 KB to 1 MB. */
const LETTER_MAX_BYTES = 1024 ** 2;

/** What the key stream enciphers: the content is the key stream itself. */
const ZEROS = Buffer.alloc(64 * 1024);

/** A document's kind from its file name (`.jpg`, `.jpeg`, `.png`; anything else a PDF). */
export function kindOf(name: string): DocumentKind {
  const lower = name.toLowerCase();
  if (lower.endsWith('.jpg') || lower.endsWith('.jpeg')) return 'jpg';
  if (lower.endsWith('.png')) return 'png';
  return 'pdf';
}

/** The first and last bytes of each kind: what a reader sniffing the file sees (magic numbers and end markers). */
function frame(kind: DocumentKind): { head: Buffer; tail: Buffer } {
  switch (kind) {
    case 'pdf':
      return {
        head: Buffer.from(
          '%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /XObject /Subtype /Image >>\nstream\n',
          'latin1',
        ),
        tail: Buffer.from('\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n', 'latin1'),
      };
    case 'jpg':
      return {
        // SOI, APP0 "JFIF" segment; the scan data; EOI
        head: Buffer.from([
          0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00, 0x01, 0x01, 0x00, 0x00, 0x48,
          0x00, 0x48, 0x00, 0x00, 0xff, 0xda,
        ]),
        tail: Buffer.from([0xff, 0xd9]),
      };
    case 'png':
      return {
        head: Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
        tail: Buffer.from([0, 0, 0, 0, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82]),
      };
  }
}

/**
 * A document of exactly `size` bytes (at least its kind's frame, about 100 bytes) as a stream:
 * the kind's magic bytes, then incompressible content (as scanned images and PDFs are), then
 * its end marker. The content is AES-128-CTR's key stream under a key drawn from `seed`: the
 * same seed gives the same bytes, generated as they are read (64 KiB at a time, never the file
 * whole), at about the speed of the disk.
 */
export function documentStream(kind: DocumentKind, size: number, seed: string): Readable {
  const { head, tail } = frame(kind);
  const body = size - head.length - tail.length;
  if (!Number.isInteger(size) || body < 0)
    throw new RangeError(`a ${kind} document needs at least ${head.length + tail.length} bytes, not ${size}`);
  // made at the first read: a zip lists many documents before it reads the first
  let cipher: Cipher | undefined;
  let left = body;
  let stage: 'head' | 'body' | 'tail' | 'done' = 'head';
  return new Readable({
    read() {
      if (stage === 'head') {
        stage = 'body';
        this.push(head);
        return;
      }
      if (stage === 'body') {
        if (left > 0) {
          const n = Math.min(left, ZEROS.length);
          left -= n;
          cipher ??= createCipheriv(
            'aes-128-ctr',
            createHash('sha256').update(seed).digest().subarray(0, 16),
            Buffer.alloc(16),
          );
          this.push(cipher.update(ZEROS.subarray(0, n)));
          return;
        }
        stage = 'tail';
      }
      if (stage === 'tail') {
        stage = 'done';
        this.push(tail);
        return;
      }
      this.push(null);
    },
  });
}

/** A size drawn log-uniformly from [min, max]: many small files, a few large ones, as in a clinic's documents. */
function logUniform(random: () => number, min: number, max: number): number {
  return Math.round(Math.exp(Math.log(min) + random() * (Math.log(max) - Math.log(min))));
}

/**
 * Sizes (bytes) of letters and uploads that together come within {@link DOCUMENT_MIN_BYTES} of
 * `budgetBytes`: letters 50 KB to 1 MB, uploads (scans and photos) 50 KB to 40 MB, drawn
 * alternately from a source seeded by `seed` (apart from the tables' source, so an export's rows
 * are the same with or without a byte budget). At least one of each.
 */
export function documentSizes(budgetBytes: number, seed: number): { letters: number[]; uploads: number[] } {
  const random = seededRandom((seed ^ 0x5eed_d0c5) >>> 0);
  const letters: number[] = [];
  const uploads: number[] = [];
  let left = budgetBytes;
  for (let i = 0; left >= DOCUMENT_MIN_BYTES || letters.length === 0 || uploads.length === 0; i++) {
    const isLetter = i % 2 === 0;
    const drawn = logUniform(random, DOCUMENT_MIN_BYTES, isLetter ? LETTER_MAX_BYTES : DOCUMENT_MAX_BYTES);
    const size = Math.max(DOCUMENT_MIN_BYTES, Math.min(drawn, left));
    (isLetter ? letters : uploads).push(size);
    left -= size;
  }
  return { letters, uploads };
}
