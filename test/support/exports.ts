import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import yazl from 'yazl';
import { readClinikoReference } from '../../src/batch/dry-run.js';
import { type ScanResult, scanExport } from '../../src/batch/scan-export.js';
import { parseConfig } from '../../src/config/migration-config.js';
import { openArchive } from '../../src/source/archive.js';
import { loadProfile } from '../../src/source/profile.js';
import { clientFor, withSandbox } from './sandbox.js';

/** Builds an export for a test: files by path, as a folder or a zip. Text is written as UTF-8. */
export type ExportFiles = Record<string, string | Buffer>;

export async function tempDir(prefix = 'export-'): Promise<string> {
  return mkdtemp(join(tmpdir(), prefix));
}

export async function writeFolder(files: ExportFiles): Promise<string> {
  const root = await tempDir();
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    await mkdir(dirname(full), { recursive: true });
    await writeFile(full, content);
  }
  return root;
}

/**
 * Writes a zip. Names a well-behaved zip writer refuses (`../evil.csv`, `/etc/passwd`) are forged:
 * a placeholder of the same length is written and its bytes patched in the finished archive.
 */
export async function writeZip(files: ExportFiles, options: { compress?: boolean } = {}): Promise<string> {
  const path = join(await tempDir(), 'export.zip');
  const zip = new yazl.ZipFile();
  const forged: [Buffer, Buffer][] = [];
  for (const [i, [name, content]] of Object.entries(files).entries()) {
    let written = name;
    if (name.startsWith('/') || name.split(/[\\/]/).includes('..') || name.includes('\\')) {
      written = `f${String(i).padStart(3, '0')}`.padEnd(name.length, '_');
      forged.push([Buffer.from(written), Buffer.from(name)]);
    }
    zip.addBuffer(Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'), written, {
      compress: options.compress ?? true,
    });
  }
  zip.end();
  const chunks: Buffer[] = [];
  for await (const chunk of zip.outputStream) chunks.push(chunk as Buffer);
  let bytes = Buffer.concat(chunks);
  for (const [from, to] of forged) {
    for (let at = bytes.indexOf(from); at !== -1; at = bytes.indexOf(from, at + to.length))
      to.copy(bytes, at);
  }
  await writeFile(path, bytes);
  bytes = Buffer.alloc(0);
  return path;
}

export const csv = (...lines: string[]) => `${lines.join('\r\n')}\r\n`;

/** A minimal valid clinic: one location in Auckland, one practitioner, one type. */
export const BASE: ExportFiles = {
  'Locations.csv': csv(
    'LocationId,Name,TimeZone',
    'L1,Auckland Central,Pacific/Auckland',
    'L2,Sydney CBD,Australia/Sydney',
  ),
  'Practitioners.csv': csv('PractitionerId,FirstName,LastName', 'P1,Hana,Ruru'),
  'AppointmentTypes.csv': csv('AppointmentTypeId,Name,DurationMinutes,Colour', 'T1,Initial,60,#112233'),
};

/** Scans an export against a sandbox seeded as the clinic would set Cliniko up. */
export async function scanWith(
  path: string,
  configInput: unknown = {},
  seedPractitioners = [{ first_name: 'Hana', last_name: 'Ruru' }],
): Promise<ScanResult> {
  const sandbox = await withSandbox({
    rateLimit: 100_000,
    seed: {
      users: [
        {
          first_name: 'Ada',
          last_name: 'Admin',
          is_practitioner: false,
          api_key: 'ScanTestKey000000000000001-au2',
        },
      ],
      businesses: [
        { business_name: 'Auckland Central', time_zone_identifier: 'Pacific/Auckland' },
        { business_name: 'Sydney CBD', time_zone_identifier: 'Australia/Sydney' },
      ],
      practitioners: seedPractitioners,
    },
  });
  try {
    const client = clientFor(sandbox, { apiKey: 'ScanTestKey000000000000001-au2' });
    return await scanExport(path, {
      profile: loadProfile(),
      config: parseConfig(configInput),
      cliniko: () => readClinikoReference(client),
    });
  } finally {
    await sandbox.close();
  }
}

/**
 * A table of an export read with a plain CSV parser, not the product's reader (UTF-8); headers
 * folded to lower case without spaces or underscores.
 */
export async function csvRecordsOf(zip: string, file: string): Promise<Record<string, string>[]> {
  const archive = await openArchive(zip);
  const entry = archive.find(file);
  const chunks: Buffer[] = [];
  if (entry) for await (const c of await archive.open(entry.path)) chunks.push(c as Buffer);
  await archive.close();
  return parse(Buffer.concat(chunks).toString('utf8'), {
    columns: (h: string[]) => h.map((x) => x.replace(/\s|_/g, '').toLowerCase()),
    relax_column_count: true,
    bom: true,
  }) as Record<string, string>[];
}
