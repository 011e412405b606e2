import { describe, expect, it } from '@jest/globals';
import { LocalRegistry, type LocalRunRecord } from '../../apps/cli/local-registry.js';
import { resumePieces } from '../../apps/cli/run-command.js';
import { runCourse } from '../../apps/cli/status-command.js';
import { clinicTime, machineTimeZone } from '../../src/core/time-zone.js';
import { tempDir } from '../support/exports.js';

/** Which run the same command resumes, and the course `status` shows of it (issue 23). */
const account = { shard: 'au1', id: '700001', businesses: ['Auckland Central'] };
const run = (over: Partial<LocalRunRecord> & Pick<LocalRunRecord, 'runId'>): LocalRunRecord => ({
  mode: 'live',
  exportFile: 'export.zip',
  sha256: 'aaa',
  state: 'interrupted',
  startedAt: '2026-03-01T20:00:00.000Z',
  updatedAt: '2026-03-01T20:05:00.000Z',
  config: { sha256: 'cfg', fields: { timeZone: '"Pacific/Auckland"' } },
  account,
  ...over,
});
const match = { mode: 'live' as const, sha256: 'aaa', account, configSha256: 'cfg' };

describe('the run the same command resumes', () => {
  it('is the latest stopped run of this export, mode, configuration and account', async () => {
    const registry = new LocalRegistry(await tempDir('resume-'));
    await registry.putRun(run({ runId: 'older', updatedAt: '2026-03-01T20:01:00.000Z' }));
    await registry.putRun(run({ runId: 'latest' }));
    await registry.putRun(run({ runId: 'finished', state: 'succeeded', updatedAt: '2026-03-02T00:00:00Z' }));
    await registry.putRun(run({ runId: 'other-export', sha256: 'bbb', updatedAt: '2026-03-02T00:00:00Z' }));
    await registry.putRun(run({ runId: 'dry', mode: 'dry-run', updatedAt: '2026-03-02T00:00:00Z' }));
    await registry.putRun(
      run({ runId: 'other-config', config: { sha256: 'x', fields: {} }, updatedAt: '2026-03-02T00:00:00Z' }),
    );
    await registry.putRun(
      run({ runId: 'other-account', account: { ...account, id: '9' }, updatedAt: '2026-03-02T00:00:00Z' }),
    );
    expect((await registry.resumableRun(match))?.runId).toBe('latest');
  });

  it('counts a running record whose process is gone (killed) as stopped, never a live one', async () => {
    const registry = new LocalRegistry(await tempDir('resume-'));
    await registry.putRun(run({ runId: 'killed', state: 'running', pid: 111 }));
    expect((await registry.resumableRun(match, () => false))?.runId).toBe('killed');
    expect(await registry.resumableRun(match, () => true)).toBeUndefined();
  });

  it('is none in a state folder that holds no runs', async () => {
    expect(await new LocalRegistry(await tempDir('resume-')).resumableRun(match)).toBeUndefined();
  });
});

describe("a run's course", () => {
  it('a resume keeps the pieces and adds the interruption a killed process never recorded', () => {
    const killed = run({
      runId: 'r',
      state: 'running',
      pieces: [{ event: 'started', at: '2026-03-01T20:00:00.000Z' }],
    });
    expect(resumePieces(killed, '2026-03-01T21:00:00.000Z')).toEqual([
      { event: 'started', at: '2026-03-01T20:00:00.000Z' },
      { event: 'interrupted', at: '2026-03-01T20:05:00.000Z' },
      { event: 'resumed', at: '2026-03-01T21:00:00.000Z' },
    ]);
    expect(resumePieces(undefined, '2026-03-01T21:00:00.000Z')).toEqual([
      { event: 'started', at: '2026-03-01T21:00:00.000Z' },
    ]);
  });

  it('status reads each piece in the clinic time zone', () => {
    const done = run({
      runId: 'r',
      state: 'succeeded',
      pieces: [
        { event: 'started', at: '2026-03-01T20:00:00.000Z' },
        { event: 'interrupted', at: '2026-03-01T20:05:00.000Z' },
        { event: 'resumed', at: '2026-03-01T21:00:00.000Z' },
        { event: 'finished', at: '2026-03-01T21:30:00.000Z' },
      ],
    });
    // Auckland is UTC+13 in March (daylight time)
    expect(runCourse(done)).toEqual([
      'started 2 Mar 2026, 09:00 NZDT (Pacific/Auckland)',
      'interrupted 2 Mar 2026, 09:05 NZDT (Pacific/Auckland)',
      'resumed 2 Mar 2026, 10:00 NZDT (Pacific/Auckland)',
      'finished 2 Mar 2026, 10:30 NZDT (Pacific/Auckland)',
    ]);
    const killed = run({ runId: 'k', state: 'running', pid: 1, config: { sha256: 'c', fields: {} } });
    expect(runCourse(killed, 'interrupted')).toEqual([
      // no zone recorded or configured: this machine's, named
      `started ${clinicTime('2026-03-01T20:00:00.000Z', machineTimeZone())}`,
      `interrupted ${clinicTime('2026-03-01T20:05:00.000Z', machineTimeZone())}`,
    ]);
  });
});
