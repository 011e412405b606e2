import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { DryCommandQueue } from '../../src/adapters/memory/dry-command-queue.js';
import { MemoryBlobStore } from '../../src/adapters/memory/memory-blob-store.js';
import { MemoryStatusStore } from '../../src/adapters/memory/memory-status-store.js';
import { BoundaryError } from '../../src/core/boundary.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';
import type { IdMapEntry } from '../../src/ports/id-map.js';
import type { BatchCounts } from '../../src/ports/outcomes.js';
import { writeZip } from '../support/exports.js';
import { runInfo } from '../support/run-info.js';

/** The in-memory ports answer as the DynamoDB and S3 adapters do where the pipeline relies on it. */
const entry = (clinikoId: string): IdMapEntry => ({ clinikoId, hash: '', runId: 'r0', at: '', steps: [] });
const counts = (entity: BatchCounts['entity'], planned: number): BatchCounts => ({
  entity,
  source: planned,
  planned,
  skipped: 0,
  invalid: 0,
  enqueued: 0,
  failed: 0,
});

describe('MemoryStatusStore', () => {
  it('counts a write result once however often it is recorded, as first recorded', async () => {
    const store = new MemoryStatusStore();
    await store.recordWrite('r1', { entity: 'patients', sourceId: 'C1', outcome: 'created', clinikoId: '9' });
    await store.recordWrite('r1', { entity: 'patients', sourceId: 'C1', outcome: 'alreadyPresent' });
    await store.recordWrite('r1', { entity: 'patients', sourceId: 'C2', outcome: 'failed', reason: 'x' });
    expect(await store.writeTotals('r1')).toEqual({
      patients: { created: 1, alreadyPresent: 0, updated: 0, failed: 1 },
    });
    expect(await store.writeTotals('r2')).toEqual({});
    const listed = [];
    for await (const w of store.listWrites('r1')) listed.push(w);
    expect(listed.map((w) => [w.sourceId, w.outcome])).toEqual([
      ['C1', 'alreadyPresent'],
      ['C2', 'failed'],
    ]);
  });

  it("finds only the run's own findings, and a written record beside them in one lookup", async () => {
    const store = new MemoryStatusStore();
    await store.putFound('c@au1-1', 'patients', 'r1', [{ key: 'k1', clinikoId: '77' }]);
    await store.putIdMap('c@au1-1', 'patients', 'C1', entry('55'));
    expect(await store.getFound('c@au1-1', 'patients', 'r1', 'k1')).toBe('77');
    expect(await store.getFound('c@au1-1', 'patients', 'r2', 'k1')).toBeUndefined();
    expect(await store.getFound('other@au1-1', 'patients', 'r1', 'k1')).toBeUndefined();
    expect(
      await store.lookupRecord('c@au1-1', 'patients', 'C1', { resource: 'patients', runId: 'r1', key: 'k1' }),
    ).toEqual({ written: entry('55'), found: '77' });
    await store.putFound('c@au1-1', 'patients', 'r2', [{ key: 'k2', clinikoId: '78' }]);
    // many keys at once answer what getFound answers key by key: only the run's own, once each
    expect(await store.getFoundMany('c@au1-1', 'patients', 'r1', ['k1', 'k2', 'k1', 'k3'])).toEqual(
      new Map([['k1', '77']]),
    );
  });

  it('claims a record once until its claim expires or it is written', async () => {
    const store = new MemoryStatusStore();
    expect(await store.claim('s', 'patients', 'C1', 'a', 1000, 0)).toBe('claimed');
    expect(await store.claim('s', 'patients', 'C1', 'b', 1000, 500)).toBe('busy');
    expect(await store.claim('s', 'patients', 'C1', 'b', 1000, 2000)).toBe('taken-over');
    await store.releaseClaim('s', 'patients', 'C1', 'a');
    expect(await store.claim('s', 'patients', 'C1', 'c', 1000, 2500)).toBe('busy');
    await store.putIdMap('s', 'patients', 'C1', entry('9'));
    expect(await store.claim('s', 'patients', 'C1', 'c', 1000, 9000)).toBe('done');
    // a claim alone is no written record
    await store.claim('s', 'patients', 'C2', 'a', 1000, 0);
    expect([...(await store.getIdMap('s', 'patients', ['C1', 'C2'])).keys()]).toEqual(['C1']);
  });

  it('pages the id map in key order with a cursor until the last page', async () => {
    const store = new MemoryStatusStore();
    for (const id of ['C3', 'C1', 'C2']) await store.putIdMap('s', 'patients', id, entry(id));
    const first = await store.listIdMapPage('s', 'patients', { limit: 2 });
    expect(first.records.map((r) => r.sourceId)).toEqual(['C1', 'C2']);
    expect(first.cursor).toBeDefined();
    const second = await store.listIdMapPage('s', 'patients', {
      limit: 2,
      ...(first.cursor ? { cursor: first.cursor } : {}),
    });
    expect(second.records.map((r) => r.sourceId)).toEqual(['C3']);
    expect(second.cursor).toBeUndefined();
  });

  it("replaces a retried batch's counts, lists batches by key, and gives back status and excluded", async () => {
    const store = new MemoryStatusStore();
    const run = runInfo();
    await store.putRun(run);
    await store.putBatchCounts(run.runId, 'b/2', counts('patients', 5));
    await store.putBatchCounts(run.runId, 'b/1', counts('patients', 3));
    await store.putBatchCounts(run.runId, 'b/2', counts('patients', 4));
    expect((await store.listBatchCounts(run.runId)).map((b) => [b.batchKey, b.counts.planned])).toEqual([
      ['b/1', 3],
      ['b/2', 4],
    ]);
    await store.updateRunStatus(run.runId, 'planned', { excluded: { invoices: 2 }, finishedAt: 'x' });
    expect(await store.getRun(run.runId)).toMatchObject({ status: 'planned', excluded: { invoices: 2 } });
    await expect(store.getRun('nope')).rejects.toThrow(/not in the status table/);
  });
});

describe('MemoryBlobStore', () => {
  it("keeps JSON as S3 would: what does not survive JSON is refused by the reader's schema", async () => {
    const blobs = new MemoryBlobStore();
    await blobs.putJson('b', 'k', { a: 1, gone: undefined, when: new Date('2024-01-02T00:00:00Z') });
    expect(await blobs.getJson('b', 'k', z.object({ a: z.number(), when: z.string() }).strict())).toEqual({
      a: 1,
      when: '2024-01-02T00:00:00.000Z',
    });
    await expect(blobs.getJson('b', 'k', z.object({ a: z.string() }))).rejects.toThrow(BoundaryError);
    expect(await blobs.getJson('b', 'absent', z.unknown())).toBeUndefined();
  });

  it('serves a file on disk by byte ranges, end exclusive', async () => {
    const zip = await writeZip({ 'a.csv': 'x' });
    const blobs = new MemoryBlobStore();
    blobs.serveFile('exports/c/a.zip', zip);
    const source = await blobs.byteSource('b', 'exports/c/a.zip');
    const chunks: Buffer[] = [];
    for await (const c of source.readRange(0, 4)) chunks.push(c as Buffer);
    expect(Buffer.concat(chunks).toString('latin1')).toBe('PK\u0003\u0004');
    expect(source.size).toBeGreaterThan(4);
  });
});

describe('DryCommandQueue', () => {
  it('refuses a write command: a dry run has no writer', async () => {
    const queue = new DryCommandQueue();
    await expect(queue.send([])).resolves.toBeUndefined();
    const command: WriteCommand = {
      runId: 'r1',
      clinicId: 'c1',
      scope: 'c1@au1-1',
      entity: 'appointmentTypes',
      sourceId: 'T1',
      file: 'AppointmentTypes.csv',
      row: 2,
      hash: '',
      keyIndex: 0,
      payload: { kind: 'appointmentType', body: { name: 'Initial', duration_in_minutes: 60 } },
    };
    await expect(queue.send([command])).rejects.toThrow(/a dry run has no writer: 1 write/);
    expect(await queue.outstanding()).toBe(0);
  });
});
