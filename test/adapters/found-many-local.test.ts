import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { dynamoStatusStore } from '../../src/adapters/aws/dynamo-status-store.js';
import { type LocalTable, localStatusTable } from '../support/dynalite.js';

/**
 * getFoundMany, the batched getFound a dry run's settle reads with (issue 24): on the local
 * DynamoDB it answers for every key what getFound answers key by key, across BatchGetItem's
 * 100-key limit; unprocessed keys are asked for again.
 */
let local: LocalTable;
beforeAll(async () => {
  local = await localStatusTable();
});
afterAll(async () => {
  await local.close();
});

describe('getFoundMany on the local DynamoDB', () => {
  it('answers 250 keys as getFound does, this run only, duplicates and unknown keys included', async () => {
    const store = dynamoStatusStore(local.name, local.client);
    const found = Array.from({ length: 230 }, (_, i) => ({ key: `k${i}`, clinikoId: `${9000 + i}` }));
    await store.putFound('s1', 'patients', 'run-2', found.slice(0, 200));
    // another run's findings are not this run's; another resource's are not this resource's
    await store.putFound('s1', 'patients', 'run-1', found.slice(200));
    await store.putFound('s1', 'appointments', 'run-2', found.slice(0, 10));
    const asked = [
      ...Array.from({ length: 240 }, (_, i) => `k${i}`),
      'k3',
      'k150',
      ...Array.from({ length: 10 }, (_, i) => `absent${i}`),
    ];
    const many = await store.getFoundMany('s1', 'patients', 'run-2', asked);
    const oneByOne = new Map<string, string>();
    for (const key of asked) {
      const id = await store.getFound('s1', 'patients', 'run-2', key);
      if (id) oneByOne.set(key, id);
    }
    expect(oneByOne.size).toBe(200);
    expect(many).toEqual(oneByOne);
    expect(many.get('k199')).toBe('9199');
    await expect(store.getFoundMany('s1', 'patients', 'run-2', [])).resolves.toEqual(new Map());
  });

  it('reads 100 keys a call and asks again for the keys DynamoDB left unprocessed', async () => {
    const ddb = mockClient(DynamoDBDocumentClient);
    try {
      const item = (i: number) => ({
        pk: 'CLINIC#s1',
        sk: `FOUND#patients#k${i}`,
        clinikoId: `${i}`,
        runId: 'r',
      });
      ddb
        .on(BatchGetCommand)
        .resolvesOnce({
          Responses: { status: [item(0)] },
          UnprocessedKeys: { status: { Keys: [{ pk: 'CLINIC#s1', sk: 'FOUND#patients#k1' }] } },
        })
        .resolvesOnce({ Responses: { status: [item(1)] } })
        .resolves({ Responses: { status: [item(100)] } });
      const store = dynamoStatusStore('status', new DynamoDBClient({ region: 'ap-southeast-2' }));
      const keys = Array.from({ length: 150 }, (_, i) => `k${i}`);
      const many = await store.getFoundMany('s1', 'patients', 'r', keys);
      expect(many).toEqual(
        new Map([
          ['k0', '0'],
          ['k1', '1'],
          ['k100', '100'],
        ]),
      );
      const calls = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input.RequestItems?.status?.Keys);
      expect(calls.map((k) => k?.length)).toEqual([100, 1, 50]);
      expect(calls[1]).toEqual([{ pk: 'CLINIC#s1', sk: 'FOUND#patients#k1' }]);
    } finally {
      ddb.restore();
    }
  });
});
