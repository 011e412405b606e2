import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runProgress } from '../../apps/cli/progress.js';
import { runLocal } from '../../apps/local/run-local.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { clinicSandbox } from '../support/sandbox.js';

/**
 * A run Cliniko answers 429 to everything for a while says it is waiting, not hung (issue 23):
 * on the real local pipeline, the sandbox turns every request away with 429 for 17 s once the
 * first patients are written, and the progress lines the operator reads must say so.
 */
const KEY = 'RateLimitWaitKey00000000000001-au1';
const PATIENTS = 60;
const REFUSED_MS = 17_000;
let sandbox: Sandbox;

beforeAll(async () => {
  // Each injected 429 resets a second later, as Cliniko's window would: the run asks again and
  // is refused again, so only the whole stretch tells a waiting run from a healthy one.
  sandbox = await clinicSandbox(KEY, { injected429ResetMs: 1000 });
});
afterAll(async () => {
  await sandbox?.close();
});

describe('a run held back by 429s', () => {
  it('prints the waiting line, with the records written so far, and still finishes', async () => {
    const rows = Array.from({ length: PATIENTS }, (_, i) => `C${i + 1},Ann${i + 1},Lee`);
    const zip = await writeZip({ ...BASE, 'Clients.csv': csv('ClientId,FirstName,LastName', ...rows) });
    const dir = await tempDir('rate-limit-wait-');
    const lines: string[] = [];
    const progress = runProgress({
      tty: false,
      out: (l) => lines.push(l),
      limitPerMinute: 1200,
      timeZone: 'Pacific/Auckland',
    });
    let refusedFrom: number | undefined;
    let lifted: NodeJS.Timeout | undefined;
    const result = await runLocal(
      {
        exportZip: zip,
        mode: 'live',
        credentials: { apiKeys: [KEY], baseUrl: sandbox.baseUrl },
        // 20 patients a second: the patients phase is still writing when the 429s start
        rateLimitPerMinute: 1200,
        visibilityTimeoutSeconds: 1,
        onProgress: (l) => progress.line(l),
        onRateLimitWait: (wait) => progress.waiting(wait),
        onStatus: (status) => {
          progress.status(status);
          const patients = status.byEntity?.patients?.finished ?? 0;
          if (refusedFrom === undefined && patients >= 5) {
            refusedFrom = patients;
            sandbox.faults = { ...sandbox.faults, rateLimited: 1 };
            lifted = setTimeout(() => {
              sandbox.faults = { ...sandbox.faults, rateLimited: 0 };
            }, REFUSED_MS);
          }
        },
      },
      (runId) => join(dir, runId),
    ).finally(() => clearTimeout(lifted));
    progress.stop();
    expect(refusedFrom).toBeDefined();
    const waiting = lines.filter((l) => l.includes('Waiting for'));
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    expect(waiting[0]).toMatch(
      /^ {2}Waiting for Cliniko's rate limit \(429\) (until|\(it ended) \d+ \w+ \d{4}, \d\d:\d\d NZDT \(Pacific\/Auckland\).*, \d+ s so far; Patients: \d+ of \d+ records written$/,
    );
    expect(lines.some((l) => l.startsWith('  The rate limit lets requests through again'))).toBe(true);
    // nothing of a patient in the line: names are Ann…/Lee
    for (const l of waiting) expect(l).not.toMatch(/Ann|Lee|C\d/);
    expect(result.report.entities.patients).toMatchObject({ source: PATIENTS, created: PATIENTS });
  }, 120_000);
});
