import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { listFolderFiles } from '../../src/source/archive.js';

/** Entries carry this time, not the clock's: the same folder always makes the same zip. */
const FIXED_MTIME = new Date('2000-01-01T00:00:00Z');

/**
 * The pipeline reads zips (from S3 by range): an unpacked export folder is zipped first, streamed.
 * Files go in name order with a fixed time, so the zip (and its sha256, which an approval names)
 * depends only on the folder's names and contents.
 */
export async function zipFolder(folder: string): Promise<string> {
  const out = join(await mkdtemp(join(tmpdir(), 'cliniko-export-')), 'export.zip');
  const zip = new yazl.ZipFile();
  const files = (await listFolderFiles(folder)).sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
  for (const f of files) zip.addReadStream(createReadStream(f.full), f.rel, { mtime: FIXED_MTIME });
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(out));
  return out;
}

export async function asZip(path: string): Promise<string> {
  return (await stat(path)).isDirectory() ? zipFolder(path) : path;
}
