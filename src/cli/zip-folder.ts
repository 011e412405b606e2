import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';
import { listFolderFiles } from '../source/archive.js';

/** The pipeline reads zips (from S3 by range): an unpacked export folder is zipped first, streamed. */
export async function zipFolder(folder: string): Promise<string> {
  const out = join(await mkdtemp(join(tmpdir(), 'cliniko-export-')), 'export.zip');
  const zip = new yazl.ZipFile();
  for (const f of await listFolderFiles(folder)) zip.addReadStream(createReadStream(f.full), f.rel);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(out));
  return out;
}

export async function asZip(path: string): Promise<string> {
  return (await stat(path)).isDirectory() ? zipFolder(path) : path;
}
