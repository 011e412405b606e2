import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { parse } from 'csv-parse/sync';
import yazl from 'yazl';
import { z } from 'zod';
import { asZip } from '../../apps/cli/zip-folder.js';
import { type InProcessRunResult, runInProcess } from '../../apps/local/run-in-process.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { keys, MIGRATED_TYPE_BATCH } from '../../src/ports/bucket-keys.js';
import type { RunReport } from '../../src/report/run-report.js';
import { openArchive } from '../../src/source/archive.js';
import { loadProfile } from '../../src/source/profile.js';
import { withSandbox } from './sandbox.js';

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

/** A dry run in one process (`run --in-process`): its report, and what its steps left behind. */
export type DryRunResult = InProcessRunResult & {
  /** The report's problems, entities and aids, as the pipeline's Report step wrote them. */
  readonly problems: RunReport['problems'];
  readonly entities: RunReport['entities'];
  readonly excluded: RunReport['excluded'];
  readonly aids: NonNullable<RunReport['approvalAids']>;
  /** Plan asked for "Migrated appointment": some appointment's type is missing or unknown. */
  readonly needsMigratedType: boolean;
};

/** A run Preflight refused: its failures, as the report's PREFLIGHT_FAILED problems say them. */
export class PreflightRefused extends Error {
  override name = 'PreflightRefused';
}

/**
 * Dry-runs an export (a zip or a folder) in one process through the pipeline's steps, against a
 * sandbox seeded as the clinic would set Cliniko up. Throws PreflightRefused when Preflight
 * refuses it (another system's export, a configuration the account cannot satisfy).
 */
export async function dryRunWith(
  path: string,
  configInput: unknown = {},
  seedPractitioners = [{ first_name: 'Hana', last_name: 'Ruru' }],
): Promise<DryRunResult> {
  const apiKey = 'ScanTestKey000000000000001-au2';
  const sandbox = await withSandbox({
    rateLimit: 100_000,
    seed: {
      users: [{ first_name: 'Ada', last_name: 'Admin', is_practitioner: false, api_key: apiKey }],
      businesses: [
        { business_name: 'Auckland Central', time_zone_identifier: 'Pacific/Auckland' },
        { business_name: 'Sydney CBD', time_zone_identifier: 'Australia/Sydney' },
      ],
      practitioners: seedPractitioners,
    },
  });
  try {
    return await dryRunInto(sandbox, path, { config: configInput, apiKeys: [apiKey] });
  } finally {
    await sandbox.close();
  }
}

/**
 * Dry-runs an export (a zip or a folder) in one process through the pipeline's steps into a
 * sandbox the caller holds, with these keys (one per Cliniko user) and this migration.json.
 * Throws PreflightRefused when Preflight refuses it.
 */
export async function dryRunInto(
  sandbox: Sandbox,
  path: string,
  options: { readonly config?: unknown; readonly apiKeys: readonly string[] },
): Promise<DryRunResult> {
  const dir = await tempDir('dry-run-');
  const configJson = join(dir, 'migration.json');
  await writeFile(configJson, JSON.stringify(options.config ?? {}));
  const zip = await asZip(path);
  try {
    const result = await runInProcess({
      exportZip: zip,
      configJson,
      credentials: { apiKeys: options.apiKeys, baseUrl: sandbox.baseUrl },
      profile: loadProfile(),
      rateLimitPerMinute: 100_000,
    });
    const refused = result.report.problems.filter((p) => p.code === 'PREFLIGHT_FAILED');
    if (refused.length) throw new PreflightRefused(refused.map((p) => p.message).join('; '));
    const aids = result.report.approvalAids;
    if (!aids) throw new Error(`the report of ${result.runId} has no approval aids`);
    const setup = result.run
      ? await result.blobs.getJson('', keys.manifest(result.runId, 'setup'), z.array(z.string()))
      : undefined;
    return {
      ...result,
      problems: result.report.problems,
      entities: result.report.entities,
      excluded: result.report.excluded,
      aids,
      needsMigratedType: (setup ?? []).includes(MIGRATED_TYPE_BATCH),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
    if (zip !== path) await rm(dirname(zip), { recursive: true, force: true });
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
