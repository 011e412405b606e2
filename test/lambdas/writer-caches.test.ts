import { describe, expect, it } from '@jest/globals';
import { WriterCaches } from '../../lambdas/write/caches.js';
import type { ExportArchive } from '../../src/source/archive.js';
import { runInfo } from '../support/run-info.js';

/** The writer's caches (issue 24): a run's data kept per run, for a bounded number of runs. */
describe('WriterCaches', () => {
  it('reads a run once while it is kept, and keeps only the runs used last', async () => {
    const caches = new WriterCaches(2);
    const reads: string[] = [];
    const load = (runId: string) => () => {
      reads.push(runId);
      return Promise.resolve(runInfo({ runId }));
    };
    await caches.run('r1', load('r1')).info;
    await caches.run('r2', load('r2')).info;
    await caches.run('r1', load('r1')).info; // r1 is now the most recently used
    expect(reads).toEqual(['r1', 'r2']);
    await caches.run('r3', load('r3')).info; // r2 goes
    expect(caches.runCount).toBe(2);
    await caches.run('r1', load('r1')).info;
    await caches.run('r2', load('r2')).info;
    expect(reads).toEqual(['r1', 'r2', 'r3', 'r2']);
  });

  it('does not keep a run record that failed to read, nor an export that failed to open', async () => {
    const caches = new WriterCaches();
    let fail = true;
    const load = () =>
      fail ? Promise.reject(new Error('throttled')) : Promise.resolve(runInfo({ runId: 'r1' }));
    await expect(caches.run('r1', load).info).rejects.toThrow('throttled');
    fail = false;
    const run = caches.run('r1', load);
    await expect(run.info).resolves.toMatchObject({ runId: 'r1' });
    let opens = 0;
    const archive = {} as ExportArchive;
    const open = () => (++opens === 1 ? Promise.reject(new Error('gone')) : Promise.resolve(archive));
    await expect(caches.archive(run, open)).rejects.toThrow('gone');
    await expect(caches.archive(run, open)).resolves.toBe(archive);
    await expect(caches.archive(run, open)).resolves.toBe(archive);
    expect(opens).toBe(2);
  });

  it('forgets everything when the runtime is reset', async () => {
    const caches = new WriterCaches();
    await caches.run('r1', () => Promise.resolve(runInfo({ runId: 'r1' }))).info;
    caches.flushed.set({} as never, { '200': 1 });
    caches.clear();
    expect(caches.runCount).toBe(0);
    expect(caches.flushed.size).toBe(0);
    expect(caches.clients).toBeUndefined();
  });
});
