import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { runLocal } from '../../apps/local/run-local.js';

/**
 * A local emulator that cannot start (here dynalite, whose status table is to live under a path
 * that is a file) ends the run in a report naming the failure in one line, not a thrown error.
 */
const dir = mkdtempSync(join(tmpdir(), 'emulator-failure-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a local emulator that fails', () => {
  it('ends the run with a failed report and one EXECUTION_FAILED problem', async () => {
    const notADir = join(dir, 'state-is-a-file');
    writeFileSync(notADir, 'not a folder');
    const result = await runLocal(
      {
        exportZip: 'samples/gensolve-sample.zip',
        mode: 'dry-run',
        credentials: { apiKeys: ['EmulatorFailureKey0000000001-au1'], baseUrl: 'http://127.0.0.1:9' },
        statePath: join(notADir, 'status-table'),
      },
      (runId) => join(dir, runId),
    );
    expect(result.report.status).toBe('failed');
    const stopped = result.report.problems.filter((p) => p.code === 'EXECUTION_FAILED');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.message).toMatch(
      /^the run stopped before its report: the local AWS emulators failed \(\S/,
    );
    expect(stopped[0]?.message).not.toContain('\n');
    expect(JSON.parse(readFileSync(result.files.json, 'utf8'))).toMatchObject({
      runId: result.runId,
      status: 'failed',
    });
  }, 60_000);
});
