import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type ClinikoConnection, connectCliniko } from '../../apps/cli/cliniko-connection.js';
import { documentStream } from '../../apps/generate/document-bytes.js';
import { ExportZip } from '../../apps/generate/export-zip.js';
import { type LocalRunResult, runLocal } from '../../apps/local/run-local.js';
import { readReferenceTables } from '../../src/batch/reference-tables.js';
import { loadConfig } from '../../src/config/migration-config.js';
import { openArchive } from '../../src/source/archive.js';
import { loadProfile } from '../../src/source/profile.js';

/**
 * An export as a clinic has one, on one machine (issue 22): the bundled sample plus a 40 MB scan
 * that Uploads.csv references and 80 MB of other files (125 MB in all, more than ten times what
 * the local S3 emulator takes in one request) runs dry and live through the local pipeline, and
 * the scan reaches Cliniko with its exact size. The bytes are generated, never committed.
 */
const SAMPLE = 'samples/gensolve-sample.zip';
const CONFIG = 'samples/migration.json';
const SCAN_BYTES = 40 * 1024 ** 2;
const SCAN_ROW = 'U9001,C5,Uploads/referral-scan-2024.pdf,15/07/2024,Referral scan (40 MB),\r\n';

let dir: string;
let exportZip: string;
let connection: ClinikoConnection;
let dry: LocalRunResult;
let live: LocalRunResult;

/** The sample's entries, Uploads.csv with one more row, the scan, and four 20 MB files nothing references. */
async function buildExport(path: string): Promise<void> {
  const sample = await openArchive(SAMPLE);
  const zip = new ExportZip(Date.UTC(2026, 9, 31));
  try {
    for (const entry of sample.entries) {
      const chunks: Buffer[] = [];
      for await (const c of await sample.open(entry.path)) chunks.push(c as Buffer);
      let bytes = Buffer.concat(chunks);
      if (entry.path === 'Uploads.csv') {
        const text = bytes.toString('utf8');
        bytes = Buffer.from(`${text}${text.endsWith('\n') ? '' : '\r\n'}${SCAN_ROW}`, 'utf8');
      }
      zip.addFile(`GensolveExport/${entry.path}`, bytes);
    }
  } finally {
    await sample.close();
  }
  zip.addStream(
    'GensolveExport/Uploads/referral-scan-2024.pdf',
    documentStream('pdf', SCAN_BYTES, 'large-export:scan'),
    SCAN_BYTES,
  );
  for (let i = 1; i <= 4; i++)
    zip.addStream(
      `GensolveExport/Archive/old-scans-${i}.jpg`,
      documentStream('jpg', 20 * 1024 ** 2, `large-export:other-${i}`),
      20 * 1024 ** 2,
    );
  await zip.write(path);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'large-export-'));
  exportZip = join(dir, 'clinic-export.zip');
  await buildExport(exportZip);
  const config = await loadConfig(CONFIG);
  const archive = await openArchive(exportZip);
  const exportRefs = await readReferenceTables(
    archive,
    loadProfile('gensolve'),
    config,
    () => undefined,
  ).finally(() => archive.close());
  // the embedded sandbox the CLI's --sandbox starts, kept here to look into afterwards
  connection = await connectCliniko({
    sandbox: true,
    exportRefs,
    clinicTimeZone: config.timeZone,
    sandboxRateLimit: 100_000,
  });
  const options = {
    exportZip,
    configJson: CONFIG,
    credentials: connection.credentials,
    rateLimitPerMinute: 100_000,
    visibilityTimeoutSeconds: 2,
  };
  const out = (runId: string) => join(dir, runId);
  dry = await runLocal({ ...options, mode: 'dry-run' }, out);
  live = await runLocal({ ...options, mode: 'live' }, out);
}, 240_000);

afterAll(async () => {
  await connection?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('a 125 MB export on one machine', () => {
  it('is more than the local S3 emulator takes in one request', () => {
    expect(statSync(exportZip).size).toBeGreaterThan(120 * 1024 ** 2);
  });

  it('runs dry to a report, the scan planned', () => {
    expect(dry.report.mode).toBe('dry-run');
    expect(dry.report.problems.filter((p) => p.code === 'EXECUTION_FAILED')).toEqual([]);
    expect(dry.report.status).not.toBe('failed');
    expect(dry.report.entities.fileUploads.source).toBe(5);
    expect(dry.report.entities.fileUploads.planned).toBe(5);
  });

  it('runs live to a report, every upload written, nothing dead-lettered', () => {
    expect(live.report.problems.filter((p) => p.code === 'EXECUTION_FAILED')).toEqual([]);
    expect(live.report.status).not.toBe('failed');
    expect(live.report.entities.fileUploads.created).toBe(5);
    expect(live.report.entities.fileUploads.failed).toBe(0);
    expect(live.deadLetters).toBe(0);
  });

  it('puts the 40 MB scan in Cliniko with its exact size', () => {
    const scans = (connection.sandbox?.state.all('patient_attachments') ?? []).filter((a) =>
      String(a.description).includes('U9001'),
    );
    expect(scans).toHaveLength(1);
    expect(statSync(String(scans[0]?.storage_path)).size).toBe(SCAN_BYTES);
  });
});
