import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import {
  DOCUMENT_MAX_BYTES,
  DOCUMENT_MIN_BYTES,
  documentSizes,
  documentStream,
} from '../../apps/generate/document-bytes.js';
import { generateExport } from '../../apps/generate/generate-export.js';
import { openArchive } from '../../src/source/archive.js';
import { dryRunWith, tempDir } from '../support/exports.js';

/** `generate --documents-mb`: documents of realistic count and size, in a valid export. */

const sha256 = async (path: string) => {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest('hex');
};

const readAll = async (stream: NodeJS.ReadableStream) => {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
};

describe('documentSizes', () => {
  it('spreads the budget over letters and uploads of 50 KB to 40 MB, within one small file of it', () => {
    const budget = 300 * 1024 ** 2;
    const { letters, uploads } = documentSizes(budget, 7);
    const all = [...letters, ...uploads];
    const total = all.reduce((n, s) => n + s, 0);
    expect(total).toBeLessThanOrEqual(budget);
    expect(budget - total).toBeLessThan(DOCUMENT_MIN_BYTES);
    expect(Math.min(...all)).toBeGreaterThanOrEqual(DOCUMENT_MIN_BYTES);
    expect(Math.max(...all)).toBeLessThanOrEqual(DOCUMENT_MAX_BYTES);
    expect(Math.max(...letters)).toBeLessThanOrEqual(1024 ** 2);
    // scans vary: some over 5 MB, many under 1 MB
    expect(uploads.some((s) => s > 5 * 1024 ** 2)).toBe(true);
    expect(all.filter((s) => s < 1024 ** 2).length).toBeGreaterThan(all.length / 4);
    expect(documentSizes(budget, 7)).toEqual({ letters, uploads });
    expect(documentSizes(budget, 8)).not.toEqual({ letters, uploads });
  });
});

describe('documentStream', () => {
  it('gives exactly the size asked, framed as the kind, the same bytes for the same seed', async () => {
    const pdf = await readAll(documentStream('pdf', 200_001, 's1'));
    expect(pdf.length).toBe(200_001);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.subarray(-6).toString('latin1')).toBe('%%EOF\n');
    const jpg = await readAll(documentStream('jpg', 70_000, 's1'));
    expect([...jpg.subarray(0, 3)]).toEqual([0xff, 0xd8, 0xff]);
    expect([...jpg.subarray(-2)]).toEqual([0xff, 0xd9]);
    expect((await readAll(documentStream('pdf', 200_001, 's1'))).equals(pdf)).toBe(true);
    expect((await readAll(documentStream('pdf', 200_001, 's2'))).equals(pdf)).toBe(false);
    expect(() => documentStream('png', 5, 's')).toThrow(RangeError);
  });
});

describe('generate with a byte budget', () => {
  it('writes a valid export whose document tables reference files of the budgeted size, the same for a seed', async () => {
    const dir = await tempDir();
    const path = `${dir}/docs.zip`;
    const summary = await generateExport(path, { patients: 20, seed: 3, documentsMb: 12, messy: false });
    const archive = await openArchive(path);
    try {
      const table = async (name: string) =>
        parse((await readAll(await archive.open(name))).toString('utf8'), {
          columns: true,
          bom: true,
        }) as Record<string, string>[];
      const letters = await table('Letters.csv');
      const uploads = await table('Uploads.csv');
      expect(letters.length).toBe(summary.rows.letters);
      expect(uploads.length).toBe(summary.rows.uploads);
      let bytes = 0;
      for (const row of [...letters, ...uploads]) {
        const entry = archive.find((row.FilePath ?? '').replace(/\\/g, '/'));
        expect({ path: row.FilePath, found: entry !== undefined }).toEqual({
          path: row.FilePath,
          found: true,
        });
        bytes += entry?.size ?? 0;
      }
      expect(bytes).toBeLessThanOrEqual(12 * 1024 ** 2);
      expect(12 * 1024 ** 2 - bytes).toBeLessThan(DOCUMENT_MIN_BYTES);
    } finally {
      await archive.close();
    }
    // the product reads it as a Gensolve export: every document planned, none missing
    const scanned = await dryRunWith(path);
    expect(scanned.entities.letters.planned).toBe(summary.rows.letters);
    expect(scanned.entities.fileUploads.planned).toBe(summary.rows.uploads);
    expect(scanned.problems.filter((p) => p.code === 'FILE_MISSING')).toEqual([]);
    const again = `${dir}/again.zip`;
    await generateExport(again, { patients: 20, seed: 3, documentsMb: 12, messy: false });
    expect(await sha256(again)).toBe(await sha256(path));
  });
});
