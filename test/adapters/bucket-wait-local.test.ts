import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { LocalRunRecord } from '../../apps/cli/local-registry.js';
import { printStatus } from '../../apps/cli/status-command.js';
import { userBucketId } from '../../src/adapters/aws/cliniko-factory.js';
import { DynamoBucketStore } from '../../src/adapters/aws/dynamo-bucket-store.js';
import { bucketPolicy } from '../../src/cliniko/rate-limiter.js';
import { type LocalTable, localStatusTable } from '../support/dynalite.js';

/**
 * Never silent on AWS (issue 23): the writers' shared token buckets on the local DynamoDB record
 * how their callers are held back (why, since when, until when), on the bucket's own item and of
 * a bounded size, so a deployed run's `status` says it waits, as a local run's terminal does.
 */
let local: LocalTable;
beforeAll(async () => {
  local = await localStatusTable();
});
afterAll(async () => {
  await local.close();
});

const policy = bucketPolicy({ limit: 200, windowMs: 60_000, fraction: 0.96 });
const store = () => new DynamoBucketStore(local.name, local.client);

describe('the DynamoDB token bucket’s record of waits', () => {
  it('keeps a 429’s wait across writers, one stretch from its first hold until Cliniko answers', async () => {
    const bucket = userBucketId('au1', '1001');
    const [a, b, reader] = [store(), store(), store()];
    const t0 = Date.now();
    await expect(reader.waiting([bucket])).resolves.toBeUndefined();

    // writer A meets a 429 whose reset is 30 s away
    await a.pauseUntil(bucket, t0 + 30_000, t0);
    await expect(reader.waiting([bucket])).resolves.toEqual({
      reason: 'cliniko-429',
      since: t0,
      until: t0 + 30_000,
    });
    // writer B, another container, is held back by the same pause: the stretch keeps its start
    const held = await b.take(bucket, policy, t0 + 1_000);
    expect(held).toBeGreaterThan(28_000);
    // at the reset Cliniko answers 429 again: still the same stretch, now until the new reset
    await a.pauseUntil(bucket, t0 + 90_000, t0 + 31_000);
    await expect(reader.waiting([bucket])).resolves.toEqual({
      reason: 'cliniko-429',
      since: t0,
      until: t0 + 90_000,
    });

    // Cliniko answers B's next request: nobody is held back
    await b.take(bucket, policy, t0 + 91_000);
    await b.answered(bucket);
    await expect(reader.waiting([bucket])).resolves.toBeUndefined();
  });

  it('ends only the stretch the answering writer saw, never one a 429 began since', async () => {
    const bucket = userBucketId('au1', '1002');
    const [a, b, reader] = [store(), store(), store()];
    const t0 = Date.now();
    await a.pauseUntil(bucket, t0 + 20_000, t0);
    // B saw the first stretch, then A's answer ends it and a later 429 begins another
    await b.take(bucket, policy, t0 + 1_000);
    await a.answered(bucket);
    await a.pauseUntil(bucket, t0 + 80_000, t0 + 60_000);
    // B's late answer was to a request of the first stretch: the second stays
    await b.answered(bucket);
    await expect(reader.waiting([bucket])).resolves.toEqual({
      reason: 'cliniko-429',
      since: t0 + 60_000,
      until: t0 + 80_000,
    });
  });

  it('records the tool’s own limit as such, and merges a run’s users into one wait', async () => {
    const [u1, u2] = [userBucketId('au1', '2001'), userBucketId('au1', '2002')];
    const w = store();
    const t0 = Date.now();
    // the bucket's burst is taken at once; the next caller is held back by the tool's own limit
    let waited = 0;
    for (let i = 0; i < policy.capacity + 1; i++) waited = await w.take(u1, policy, t0);
    expect(waited).toBeGreaterThan(0);
    // (a take reads the clock again for each try, so its times are a few ms past t0)
    const own = await w.waiting([u1]);
    expect(own?.reason).toBe('own-limit');
    expect(own?.since).toBeGreaterThanOrEqual(t0);
    expect(own?.since).toBeLessThan(t0 + 5_000);
    await w.pauseUntil(u2, t0 + 45_000, t0 + 5_000);
    await expect(w.waiting([u1, u2, userBucketId('au1', 'none')])).resolves.toEqual({
      reason: 'cliniko-429',
      since: own?.since,
      until: t0 + 45_000,
    });
  });

  it('keeps the item’s size bounded however long the waiting lasts', async () => {
    const bucket = userBucketId('au1', '3001');
    const w = store();
    const t0 = Date.now();
    for (let i = 0; i < 40; i++) {
      await w.pauseUntil(bucket, t0 + (i + 1) * 60_000, t0 + i * 60_000);
      await w.take(bucket, policy, t0 + i * 60_000 + 1);
    }
    const item = await local.client.send(
      new GetItemCommand({
        TableName: local.name,
        Key: { pk: { S: `LIMIT#${bucket}` }, sk: { S: 'LIMIT' } },
      }),
    );
    expect(Object.keys(item.Item ?? {}).sort()).toEqual(
      ['pausedUntil', 'pk', 'sk', 'tokens', 'updatedAt', 'version', 'wait'].sort(),
    );
    expect(Object.keys(item.Item?.wait?.M ?? {}).sort()).toEqual(['reason', 'since', 'until']);
  });
});

describe('status of a deployed run held back by the rate limit', () => {
  it('shows the waiting line from the bucket items, as a local run’s terminal does', async () => {
    const bucket = userBucketId('au1', '4001');
    const t0 = Date.now();
    await store().pauseUntil(bucket, t0 + 120_000, t0);
    const waiting = await store().waiting([bucket]);
    const record: LocalRunRecord = {
      runId: 'run-1',
      mode: 'live',
      exportFile: 'export.zip',
      sha256: 'abc',
      state: 'running',
      startedAt: new Date(t0 - 60_000).toISOString(),
      updatedAt: new Date(t0).toISOString(),
      timeZone: 'Pacific/Auckland',
      phase: 'patients',
      progress: { patients: { enqueued: 10, finished: 4 } },
      ...(waiting ? { waiting } : {}),
    };
    const lines: string[] = [];
    printStatus(record, (l) => lines.push(l), t0 + 20_000);
    expect(lines).toContainEqual(
      expect.stringMatching(
        /^Waiting for Cliniko's rate limit \(429\) until \d+ \w+ \d{4}, \d\d:\d\d NZ\wT \(Pacific\/Auckland\), 20 s so far$/,
      ),
    );
    // under 15 s of waiting it says nothing yet; a finished run never waits
    const quiet: string[] = [];
    printStatus(record, (l) => quiet.push(l), t0 + 10_000);
    printStatus({ ...record, state: 'succeeded' }, (l) => quiet.push(l), t0 + 20_000);
    expect(quiet.join('\n')).not.toMatch(/Waiting/);
  });
});
