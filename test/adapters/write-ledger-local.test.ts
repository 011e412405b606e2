import { GetItemCommand, PutItemCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dynamoStatusStore } from '../../src/adapters/aws/dynamo-status-store.js';
import type { WriteOutcome } from '../../src/ports/write-ledger.js';
import { type LocalTable, localStatusTable } from '../support/dynalite.js';

/**
 * The write ledger against the local DynamoDB (dynalite), as the local runtime runs it: each
 * record counted exactly once however often and however concurrently it is reported, with items
 * whose size does not grow with the records counted.
 */
let local: LocalTable;
beforeAll(async () => {
  local = await localStatusTable();
});
afterAll(async () => {
  await local.close();
});

const OUTCOMES: readonly WriteOutcome[] = ['created', 'alreadyPresent', 'updated', 'failed'];
const outcomeOf = (i: number): WriteOutcome => OUTCOMES[i % 4] ?? 'created';

describe('write ledger on the local DynamoDB', () => {
  it('counts each record once under redelivery and concurrent writers', async () => {
    const store = dynamoStatusStore(local.name, local.client);
    const records = 120;
    // every record reported by three writers at once, and once more later (a redelivery)
    const reports = Array.from({ length: records * 3 }, (_, i) => i % records);
    await Promise.all(
      Array.from({ length: 12 }, async (_, w) => {
        for (let i = w; i < reports.length; i += 12) {
          const n = reports[i] ?? 0;
          await store.recordWrite('r1', { entity: 'patients', sourceId: `C${n}`, outcome: outcomeOf(n) });
        }
      }),
    );
    for (let n = 0; n < records; n += 7)
      await store.recordWrite('r1', { entity: 'patients', sourceId: `C${n}`, outcome: 'failed' });

    const exact = { created: 30, alreadyPresent: 30, updated: 30, failed: 30 };
    await expect(store.writeTotals('r1')).resolves.toEqual({ patients: exact });
    await expect(store.settleWriteTotals('r1')).resolves.toEqual({ patients: exact });
    let listed = 0;
    for await (const _ of store.listWrites('r1')) listed++;
    expect(listed).toBe(records);
  });

  it('keeps the counter items small: no set of counted ids', async () => {
    const store = dynamoStatusStore(local.name, local.client);
    for (let n = 0; n < 300; n++)
      await store.recordWrite('r2', { entity: 'appointments', sourceId: `A${n}`, outcome: 'created' });
    const items = await local.client.send(new ScanCommand({ TableName: local.name }));
    const done = (items.Items ?? []).filter((i) => i.pk?.S === 'RUN#r2' && i.sk?.S?.startsWith('DONE#'));
    expect(done.length).toBeGreaterThan(0);
    for (const item of done) {
      expect(Object.keys(item).sort()).toEqual(['created', 'entity', 'expiresAt', 'pk', 'sk']);
    }
  });

  it('a writer stopped between its result and its count leaves the counters short; settling counts exactly', async () => {
    const store = dynamoStatusStore(local.name, local.client);
    let stopAtCount = true;
    // the writer "dies" right after marking A1: its counter update never reaches the table
    local.client.middlewareStack.add(
      (next) => async (args) => {
        if (stopAtCount && JSON.stringify(args.input).includes('DONE#appointments#')) {
          stopAtCount = false;
          throw new Error('Task timed out');
        }
        return next(args);
      },
      { step: 'build', name: 'stopBetweenMarkAndCount' },
    );
    try {
      await expect(
        store.recordWrite('r3', { entity: 'appointments', sourceId: 'A1', outcome: 'created' }),
      ).rejects.toThrow('Task timed out');
      // the redelivered command reports the record again: it is marked, so it is not counted twice
      await store.recordWrite('r3', { entity: 'appointments', sourceId: 'A1', outcome: 'alreadyPresent' });
      await store.recordWrite('r3', { entity: 'appointments', sourceId: 'A2', outcome: 'created' });
    } finally {
      local.client.middlewareStack.remove('stopBetweenMarkAndCount');
    }
    await expect(store.writeTotals('r3')).resolves.toEqual({
      appointments: { created: 1, alreadyPresent: 0, updated: 0, failed: 0 },
    });
    // A1 counts as what it was first counted as (the report lists its latest result)
    await expect(store.settleWriteTotals('r3')).resolves.toEqual({
      appointments: { created: 2, alreadyPresent: 0, updated: 0, failed: 0 },
    });
  });

  it('refuses an item over 400 KB as DynamoDB does', async () => {
    const put = (bytes: number) =>
      local.client.send(
        new PutItemCommand({
          TableName: local.name,
          Item: { pk: { S: 'RUN#big' }, sk: { S: 'X' }, blob: { S: 'x'.repeat(bytes) } },
        }),
      );
    await expect(put(390 * 1024)).resolves.toBeDefined();
    const err = await put(400 * 1024).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toMatchObject({
      name: 'ValidationException',
      message: 'Item size has exceeded the maximum allowed size',
    });
    const kept = await local.client.send(
      new GetItemCommand({ TableName: local.name, Key: { pk: { S: 'RUN#big' }, sk: { S: 'X' } } }),
    );
    expect(kept.Item?.blob?.S).toHaveLength(390 * 1024);
  });
});
