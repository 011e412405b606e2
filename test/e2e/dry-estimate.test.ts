import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { generateExport, sandboxSeedForGenerated } from '../../apps/generate/generate-export.js';
import { type LocalRunResult, runLocal } from '../../apps/local/run-local.js';
import { type Sandbox, startSandbox } from '../../apps/sandbox/server.js';
import { openArchive } from '../../src/source/archive.js';
import { type ExportFiles, tempDir, writeZip } from '../support/exports.js';

/**
 * A dry run's estimate of its live run (issue 24): the Cliniko requests it announces are within
 * 10 % of those Cliniko's API received during the live run that followed, for a first transfer, a
 * repeat of it (nothing to write: the live run only reads and holds the account) and a delta
 * (clients added, changed and removed). The time is the requests at the keys' rate, so it follows.
 */
const KEY = 'EstimateKey00000000000000001-au1';
let sandbox: Sandbox;
let served = 0;
let dir: string;
let zip: string;

beforeAll(async () => {
  dir = await tempDir('estimate-');
  zip = join(dir, 'export.zip');
  await generateExport(zip, { patients: 10, appointmentsPerPatient: 3, seed: 24 });
  sandbox = await startSandbox({
    shard: 'au1',
    rateLimit: 0,
    attachmentProcessingMs: 5,
    seed: sandboxSeedForGenerated(KEY),
    observe: () => void served++,
  });
});
afterAll(async () => {
  await sandbox.close();
});

/** One run of `exportZip` into the account, with the clinic's status table kept between runs. */
async function run(
  exportZip: string,
  mode: 'dry-run' | 'live',
): Promise<{ result: LocalRunResult; served: number }> {
  const before = served;
  const result = await runLocal(
    {
      exportZip,
      mode,
      credentials: { apiKeys: [KEY], baseUrl: sandbox.baseUrl },
      rateLimitPerMinute: 100_000,
      visibilityTimeoutSeconds: 1,
      clinikoRetry: { maxAttempts: 2, baseDelayMs: 5 },
      statePath: join(dir, 'status-table'),
    },
    (runId) => join(dir, mode, runId),
  );
  return { result, served: served - before };
}

/** The dry run's estimated requests and what Cliniko received in the live run after it. */
async function estimateAndLive(exportZip: string): Promise<{ estimate: number; received: number }> {
  const dry = await run(exportZip, 'dry-run');
  const live = await run(exportZip, 'live');
  expect(live.result.report.status).toBe('succeeded');
  reported.push({ reported: live.result.report.cliniko.requests, received: live.served });
  return { estimate: dry.result.report.projection?.requests ?? Number.NaN, received: live.served };
}

/** What each live run's report counted as sent to Cliniko, beside what Cliniko received. */
const reported: { reported: number; received: number }[] = [];

const within10 = ({ estimate, received }: { estimate: number; received: number }) =>
  Math.abs(estimate - received) / received;

/** The export with one client added (a copy of the first under a new id), one changed, one removed. */
async function delta(from: string): Promise<string> {
  const archive = await openArchive(from);
  const files: ExportFiles = {};
  try {
    for (const entry of archive.entries) {
      const chunks: Buffer[] = [];
      for await (const c of await archive.open(entry.path)) chunks.push(c as Buffer);
      files[entry.path] = Buffer.concat(chunks);
    }
  } finally {
    await archive.close();
  }
  const rows = parse(files['Clients.csv']?.toString('utf8') ?? '', {
    bom: true,
    relax_column_count: true,
  }) as string[][];
  const [header = [], first = [], changed = [], removed, ...rest] = rows;
  if (!removed) throw new Error('the generated export has too few clients');
  const at = (name: string) => header.indexOf(name);
  const added = first.map((v, i) =>
    i === at('ClientId') ? 'C9001' : i === at('FirstName') ? 'Newcomer' : v,
  );
  const moved = changed.map((v, i) => (i === at('Email') ? 'moved@example.co.nz' : v));
  const quoted = (r: readonly string[]) => r.map((f) => `"${f.replace(/"/g, '""')}"`).join(',');
  files['Clients.csv'] = Buffer.from(
    `${[header, first, moved, ...rest, added].map(quoted).join('\r\n')}\r\n`,
  );
  return writeZip(files);
}

describe("a dry run's estimate of the live run's Cliniko requests", () => {
  it('is within 10 % for a first transfer, a repeat and a delta into the same account', async () => {
    const first = await estimateAndLive(zip);
    const repeat = await estimateAndLive(zip);
    const later = await estimateAndLive(await delta(zip));
    // the runs differ as they should: a repeat writes nothing, a delta a little
    expect(repeat.received).toBeLessThan(first.received / 3);
    expect(later.received).toBeGreaterThan(repeat.received);
    // all three at once, so a failure shows each estimate beside what Cliniko received
    const runs = { first, repeat, delta: later };
    const judged = (ok: (pair: { estimate: number; received: number }) => boolean) =>
      Object.fromEntries(Object.entries(runs).map(([name, pair]) => [name, { ...pair, within10: ok(pair) }]));
    expect(judged((pair) => within10(pair) < 0.1)).toEqual(judged(() => true));
    // The live report counts every request up to its writing, the lease's renewals included; only
    // the lease's release (its markers listed, its own archived) comes after the report.
    for (const r of reported) expect(r.received - r.reported).toBeGreaterThanOrEqual(0);
    for (const r of reported) expect(r.received - r.reported).toBeLessThanOrEqual(3);
  }, 240_000);
});
