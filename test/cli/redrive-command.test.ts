import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { deadLettersPath } from '../../apps/cli/redrive-command.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { cli } from '../support/cli.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { clinicSandbox } from '../support/sandbox.js';

/**
 * `redrive` from the command line on this machine, no mocks: a live run into a Cliniko (the
 * sandbox) that refuses one patient until the fault is cleared; the record is dead-lettered and
 * kept in the state folder; after the fix `redrive` writes it, once, and `status` counts it.
 */
const KEY = 'RedriveCliKey000000000000001-au1';
let sandbox: Sandbox;
let faultOn = true;

beforeAll(async () => {
  sandbox = await clinicSandbox(KEY, {
    alwaysFail: (method, path, body) =>
      faultOn &&
      method === 'POST' &&
      path === '/v1/patients' &&
      (body as { old_reference_id?: string })?.old_reference_id === 'C2'
        ? 503
        : false,
  });
});
afterAll(async () => {
  await sandbox?.close();
});

describe('cliniko-migrate redrive', () => {
  it('sends the dead-lettered record again after the fix: written once, the report and status count it', async () => {
    const stateDir = join(await tempDir('redrive-cli-'), 'state');
    const out = join(await tempDir('redrive-cli-out-'), 'live');
    const zip = await writeZip({
      ...BASE,
      'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee', 'C2,Bo,Chan'),
    });
    const saved = { ...process.env };
    process.env.CLINIKO_API_KEY = KEY;
    try {
      const live = await cli(
        'run',
        zip,
        '--mode',
        'live',
        '--cliniko-url',
        sandbox.baseUrl,
        '--state-dir',
        stateDir,
        '--out',
        out,
      );
      expect(live.code).toBe(1);
      const runId = /cliniko-migrate redrive (run-\w+)/.exec(live.out)?.[1] ?? '';
      expect(runId).toMatch(/^run-/);
      expect(existsSync(deadLettersPath(stateDir, runId))).toBe(true);
      expect(sandbox.state.count('patients')).toBe(1);

      faultOn = false;
      const redrive = await cli('redrive', runId, '--state-dir', stateDir);
      expect(redrive.err).toBe('');
      expect(redrive.code).toBe(0);
      expect(redrive.out).toContain('All 1 written');
      expect(sandbox.state.all('patients').filter((p) => p.old_reference_id === 'C2')).toHaveLength(1);
      expect(existsSync(deadLettersPath(stateDir, runId))).toBe(false);

      const status = await cli('status', runId, '--state-dir', stateDir);
      expect(status.out).toMatch(/succeeded/);
      expect(status.out).toMatch(/Patients\s+2\s/);

      // nothing left: a second redrive says so and writes nothing
      const again = await cli('redrive', runId, '--state-dir', stateDir);
      expect(again.code).toBe(0);
      expect(again.out).toContain('nothing to redrive');
      expect(sandbox.state.count('patients')).toBe(2);
    } finally {
      process.env = saved;
    }
  }, 300_000);
});
