import { describe, expect, it } from '@jest/globals';
import type { PreflightInput } from '../../lambdas/preflight/io.js';
import { type PreflightDeps, preflight } from '../../lambdas/preflight/preflight.js';
import { keys } from '../../src/ports/bucket-keys.js';
import { loadProfile } from '../../src/source/profile.js';
import { memoryBlobs } from '../support/memory-blobs.js';

/**
 * The deployed Preflight refuses a clinic's `migration.json` in the CLI's words (issue 26): invalid
 * JSON named by the object's key, line and column, as an editor jumps to it.
 */
const input: PreflightInput = {
  runId: 'run-1',
  clinicId: 'clinic-7',
  bucket: 'b',
  key: 'exports/clinic-7/x.zip',
  mode: 'dry-run',
};
const unused = (what: string) => () => Promise.reject(new Error(`${what}: not reached`));

function deps(config: string | undefined): PreflightDeps {
  const objects = new Map<string, unknown>();
  if (config !== undefined) objects.set(keys.config(input.clinicId), config);
  return {
    blobs: memoryBlobs(objects),
    store: {
      putRun: unused('putRun'),
      getRun: unused('getRun'),
      updateRunStatus: unused('updateRunStatus'),
      recordDryRun: unused('recordDryRun'),
      dryRunFor: unused('dryRunFor'),
    },
    secrets: { credentials: () => Promise.reject(new Error('no secret in this test')) },
    cliniko: () => {
      throw new Error('not reached');
    },
    profile: loadProfile('gensolve'),
    now: () => new Date('2026-12-05T00:00:00Z'),
  };
}

describe('the deployed Preflight and migration.json', () => {
  it('names invalid JSON by key, line and column, as the CLI does', async () => {
    const out = await preflight(
      input,
      deps('{\n  "timeZone": "Pacific/Auckland",\n  "clinicalNotes": \n}\n'),
    );
    expect(out.ok).toBe(false);
    expect(out.failures).toEqual([
      'config/clinic-7/migration.json:4:1: not valid JSON: unexpected "}", expected a value',
    ]);
  });

  it('names a trailing comma at the comma, after a byte-order mark it ignores', async () => {
    const out = await preflight(input, deps('\uFEFF{\r\n  "timeZone": "UTC",\r\n}'));
    expect(out.failures).toEqual([
      'config/clinic-7/migration.json:2:20: not valid JSON: a comma before "}" (JSON allows no trailing comma)',
    ]);
  });

  it('goes on to the clinic’s keys with a valid file, or none (the defaults)', async () => {
    for (const config of ['{ "timeZone": "Pacific/Auckland" }', undefined]) {
      const out = await preflight(input, deps(config));
      expect(out.failures).toEqual([expect.stringMatching(/^No Cliniko API key for clinic clinic-7: /)]);
    }
  });
});
