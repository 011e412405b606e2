import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import type { LocalRunRecord } from '../../apps/cli/local-registry.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/exports.js';
import { spawnCli } from '../support/spawn-cli.js';

/** A state folder holding one run record, as `run` leaves it. */
async function stateWith(record: LocalRunRecord): Promise<string> {
  const dir = await tempDir('state-');
  await mkdir(join(dir, 'runs'), { recursive: true });
  await writeFile(join(dir, 'runs', `${record.runId}.json`), JSON.stringify(record));
  return dir;
}

const running: LocalRunRecord = {
  runId: 'run-words1',
  mode: 'live',
  exportFile: 'export.zip',
  sha256: 'a'.repeat(64),
  state: 'interrupted',
  startedAt: '2026-12-04T01:05:00.000Z',
  updatedAt: '2026-12-04T01:47:30.000Z',
  phase: 'migratedAppointmentType',
  timeZone: 'Pacific/Auckland',
  progress: {
    migratedAppointmentType: { enqueued: 1, finished: 1 },
    patients: { enqueued: 2_000, finished: 1_250 },
  },
};

describe('cliniko-migrate status in the clinic words', () => {
  it('shows times in the clinic zone with its name, and entities by display name in an aligned table', async () => {
    const stateDir = await stateWith(running);
    const { code, out } = await cli('status', running.runId, '--state-dir', stateDir);
    expect(code).toBe(0);
    expect(out).toContain('during Migrated appointment type');
    expect(out).toContain(
      'started 4 Dec 2026, 14:05 NZDT (Pacific/Auckland), last update 4 Dec 2026, 14:47 NZDT (Pacific/Auckland)',
    );
    expect(out).not.toMatch(/\dT\d|migratedAppointmentType/);
    const table = out.split('\n').filter((l) => /^(entity|Migrated|Patients)/.test(l));
    expect(table).toEqual([
      expect.stringMatching(/^entity\s+written\s+queued$/),
      expect.stringMatching(/^Migrated appointment type\s+1\s+1$/),
      expect.stringMatching(/^Patients\s+1,250\s+2,000$/),
    ]);
    // every number column ends where its heading does
    const ends = table.map((l) => l.length);
    expect(new Set(ends).size).toBe(1);
  });

  it('ends quietly with exit 0 when the reader of its output has gone (status | head)', async () => {
    const stateDir = await stateWith(running);
    const run = spawnCli(['status', running.runId, '--state-dir', stateDir], { cwd: stateDir });
    // the reader closes before the command writes a line
    run.child.stdout.destroy();
    const result = await run;
    expect(result.err).not.toMatch(/EPIPE|Error|at /);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
  }, 60_000);
});
