import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { LocalRegistry } from '../../apps/cli/local-registry.js';
import { waitingLine } from '../../apps/cli/progress.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { cli } from '../support/cli.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { clinicSandbox } from '../support/sandbox.js';

/**
 * A run Cliniko answers 429 to everything for a while says it is waiting, not hung (issue 23):
 * `cliniko-migrate run` on the local pipeline against a sandbox that, once the first patients
 * are written, turns every request away with 429 for 17 s. The operator's lines must say so.
 */
const KEY = 'RateLimitWaitKey00000000000001-au1';
const PATIENTS = 30;
const REFUSED_MS = 17_000;
let sandbox: Sandbox;
let created = 0;
let lifted: NodeJS.Timeout | undefined;
let stateDir = '';
/** What `status` would have said of the running run just before the 429s stop. */
let statusLine: Promise<string | undefined> | undefined;

beforeAll(async () => {
  sandbox = await clinicSandbox(KEY, {
    // Each injected 429 resets a second later, as Cliniko's window would: the run asks again and
    // is refused again, so only the whole stretch tells a waiting run from a healthy one.
    injected429ResetMs: 1000,
    observe: (method, path, status) => {
      if (method !== 'POST' || path !== '/v1/patients' || status !== 201) return;
      if (++created !== 5) return;
      sandbox.faults = { ...sandbox.faults, rateLimited: 1 };
      lifted = setTimeout(() => {
        statusLine = new LocalRegistry(stateDir)
          .listRuns()
          .then(([run]) =>
            run?.state === 'running' ? waitingLine(run.waiting, Date.now(), 'UTC') : undefined,
          )
          .finally(() => {
            sandbox.faults = { ...sandbox.faults, rateLimited: 0 };
          });
      }, REFUSED_MS);
    },
  });
});
afterAll(async () => {
  clearTimeout(lifted);
  await sandbox?.close();
});

describe('a run held back by 429s', () => {
  // The line's count of records written (when a count of the phase is in) is checked in
  // test/cli/progress-waiting.test.ts: here the 429s may come before the phase's first count.
  it('prints the waiting line, then that it is over, and finishes', async () => {
    const rows = Array.from({ length: PATIENTS }, (_, i) => `C${i + 1},Ann${i + 1},Lee`);
    const zip = await writeZip({ ...BASE, 'Clients.csv': csv('ClientId,FirstName,LastName', ...rows) });
    const dir = await tempDir('rate-limit-wait-');
    stateDir = join(dir, 'state');
    const saved = { ...process.env };
    process.env.CLINIKO_API_KEY = KEY;
    let res: Awaited<ReturnType<typeof cli>>;
    try {
      res = await cli(
        'run',
        zip,
        '--mode',
        'live',
        '--cliniko-url',
        sandbox.baseUrl,
        '--state-dir',
        join(dir, 'state'),
        '--out',
        join(dir, 'out'),
      );
    } finally {
      process.env = saved;
    }
    expect(created).toBe(PATIENTS);
    expect(res.code).toBe(0);
    const lines = res.out.split('\n');
    const waiting = lines.filter((l) => l.includes('Waiting for'));
    expect(waiting.length).toBeGreaterThanOrEqual(1);
    expect(waiting[0]).toMatch(
      /^ {2}Waiting for Cliniko's rate limit \(429\) (until|\(it ended) \d+ \w+ \d{4}, \d\d:\d\d \S+ \(.+\).*, \d+ s so far(; Patients: \d+ of \d+ records written)?$/,
    );
    expect(lines.some((l) => l.startsWith('  The rate limit lets requests through again'))).toBe(true);
    // nothing of a patient in the lines: names are Ann…/Lee, ids C…
    for (const l of waiting) expect(l).not.toMatch(/Ann|Lee|C\d/);
    // `status` from another terminal said so too, and the finished run's record holds no wait
    expect(await statusLine).toMatch(/^ {2}Waiting for Cliniko's rate limit \(429\)/);
    const [finished] = await new LocalRegistry(stateDir).listRuns();
    expect(finished?.waiting).toBeUndefined();
  }, 120_000);
});
