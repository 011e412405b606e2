import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { generateExport, sandboxSeedForGenerated } from '../../apps/generate/generate-export.js';
import { runInProcess } from '../../apps/local/run-in-process.js';
import { runLocal } from '../../apps/local/run-local.js';
import { startSandbox } from '../../apps/sandbox/server.js';
import type { Problem } from '../../src/core/problem.js';
import type { RunReport } from '../../src/report/run-report.js';
import { loadProfile } from '../../src/source/profile.js';
import { tempDir } from '../support/exports.js';

/**
 * One path from rows to report (issue 24): `run --in-process` runs the pipeline's own steps over
 * in-memory ports, so for one export into one account it must report what the local pipeline's dry
 * run (the state machine on its emulators) reports: the same counts per entity, the same problems
 * at the same places, the same approval aids. The in-process run splits the export into batches
 * of 7 rows, the pipeline into its 500, so the decisions must not depend on the split either.
 */
const problemLines = (problems: readonly Problem[]) =>
  problems
    .map((p) => [p.entity, p.sourceId, p.file, p.row, p.field, p.code, p.severity, p.message].join('|'))
    .sort();

/** What a dry run decided, without what differs by nature between two runs (ids, times, ports). */
const decided = (report: RunReport) => ({
  status: report.status,
  entities: report.entities,
  excluded: report.excluded,
  problems: problemLines(report.problems),
  approvalAids: report.approvalAids,
  arrivals: report.arrivals,
  reconciliation: report.reconciliation,
});

describe('the in-process dry run is the pipeline dry run', () => {
  it('gives the same counts, problems and aids as the local pipeline for a generated (messy) export', async () => {
    const dir = await tempDir('one-path-');
    const zip = join(dir, 'export.zip');
    await generateExport(zip, { patients: 40, seed: 12, documentsPer100: 30 });
    const apiKey = 'OneCoreKey0000000000000001-au1';
    const sandbox = await startSandbox({
      shard: 'au1',
      rateLimit: 0,
      attachmentProcessingMs: 5,
      seed: sandboxSeedForGenerated(apiKey),
    });
    try {
      const credentials = { apiKeys: [apiKey], baseUrl: sandbox.baseUrl };
      const inProcess = await runInProcess({
        exportZip: zip,
        credentials,
        profile: loadProfile(),
        rateLimitPerMinute: 100_000,
        batchSize: 7,
      });
      const pipeline = await runLocal(
        { exportZip: zip, mode: 'dry-run', credentials, rateLimitPerMinute: 100_000 },
        (runId) => join(dir, runId),
      );
      const ours = decided(inProcess.report);
      expect(ours.status).toBe('succeeded');
      expect(ours.problems.length).toBeGreaterThan(20);
      expect(Object.values(ours.entities).reduce((n, e) => n + e.planned, 0)).toBeGreaterThan(100);
      expect(ours).toEqual(decided(pipeline.report));
      // nothing was written: the account holds only what its seed put there
      expect(sandbox.state.count('patients')).toBe(0);
    } finally {
      await sandbox.close();
    }
  }, 180_000);
});
