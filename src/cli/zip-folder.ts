import { createReadStream, createWriteStream } from 'node:fs';
import { mkdtemp, readdir, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import yazl from 'yazl';

/** The pipeline reads zips (from S3 by range): an unpacked export folder is zipped first, streamed. */
export async function zipFolder(folder: string): Promise<string> {
  const out = join(await mkdtemp(join(tmpdir(), 'cliniko-export-')), 'export.zip');
  const zip = new yazl.ZipFile();
  const walk = async (dir: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, d.name);
      if (d.isSymbolicLink()) continue;
      if (d.isDirectory()) await walk(full);
      else if (d.isFile())
        zip.addReadStream(createReadStream(full), relative(folder, full).split(sep).join('/'));
    }
  };
  await walk(folder);
  zip.end();
  await pipeline(zip.outputStream, createWriteStream(out));
  return out;
}

export async function asZip(path: string): Promise<string> {
  return (await stat(path)).isDirectory() ? zipFolder(path) : path;
}
