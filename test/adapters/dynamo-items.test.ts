import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { DynamoBucketStore } from '../../src/adapters/aws/dynamo-bucket-store.js';
import { dynamoStatusStore } from '../../src/adapters/aws/dynamo-status-store.js';
import { parseConfig } from '../../src/config/migration-config.js';
import { BoundaryError } from '../../src/core/boundary.js';
import type { RecordOutcome } from '../../src/ports/outcomes.js';
import { runInfo } from '../support/run-info.js';

/**
 * Items read back from DynamoDB are parsed by their schema where they enter (issue 12): a
 * well-formed item round-trips to the port's record, a malformed one is refused with a
 * BoundaryError naming the item family and the field, never the value.
 */
const ddb = mockClient(DynamoDBDocumentClient);
afterEach(() => {
  ddb.reset();
});

const store = dynamoStatusStore('status', new DynamoDBClient({ region: 'ap-southeast-2' }));
const keys = { pk: 'RUN#r1', sk: 'X', expiresAt: 1_900_000_000 };

const run = runInfo({
  account: { shard: 'au1', id: '1234567890123456789', businesses: ['Harbour Physio'] },
  scope: 'c1@au1-1234567890123456789',
  mode: 'dry-run',
  config: parseConfig({ defaultBusinessId: '42' }),
  manifest: { system: 'Gensolve', timeZone: 'Pacific/Auckland' },
  practitioners: {
    P1: { status: 'matched', clinikoId: '5', name: 'Dr Hana Ruru' },
    P2: { status: 'excluded' },
  },
  locations: { L1: { timeZone: 'Pacific/Auckland', businessId: '42', name: 'Central' } },
  keyLabels: ['…abcd'],
  clinikoUsers: ['7'],
  keyPractitioners: [null],
});

/** Expects a refusal naming `boundary` and `field`, and not showing `value`. */
async function refused(read: Promise<unknown>, boundary: RegExp, field: string, value: string) {
  const err = await read.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BoundaryError);
  const message = (err as Error).message;
  expect(message).toMatch(boundary);
  expect((err as BoundaryError).fields.map((f) => f.path)).toContain(field);
  expect(message).not.toContain(value);
}

describe('runs', () => {
  it('getRun round-trips the run Preflight put, with its status and excluded counts', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...keys, run, status: 'planned', excluded: { appointments: 2 } } });
    await expect(store.getRun('r1')).resolves.toEqual({
      ...run,
      status: 'planned',
      excluded: { appointments: 2 },
    });
  });

  it('refuses a run item whose account id is a number, naming the field', async () => {
    const account = { ...run.account, id: 1234567890123 };
    ddb.on(GetCommand).resolves({ Item: { ...keys, run: { ...run, account }, status: 'planned' } });
    await refused(
      store.getRun('r1'),
      /^status table run item RUN#r1\/RUN refused: /,
      'run.account.id',
      '1234567890123',
    );
  });

  it('refuses a run item with an unknown mode', async () => {
    ddb.on(GetCommand).resolves({ Item: { ...keys, run: { ...run, mode: 'wet-run' }, status: 'planned' } });
    await refused(store.getRun('r1'), /run item/, 'run.mode', 'wet-run');
  });

  it('reads a dry run and request counts, refusing a count that is not a number', async () => {
    ddb.on(GetCommand).resolvesOnce({ Item: { pk: 'CLINIC#c1', sk: 'DRYRUN#x', runId: 'd1', sha256: 'x' } });
    await expect(store.dryRunFor('c1', 'x')).resolves.toBe('d1');
    ddb.on(GetCommand).resolves({ Item: { ...keys, req_200: 12, req_429: 1 } });
    await expect(store.requests('r1')).resolves.toEqual({ '200': 12, '429': 1 });
    ddb.on(GetCommand).resolves({ Item: { ...keys, req_200: 'twelve' } });
    await refused(store.requests('r1'), /requests item RUN#r1\/REQ/, '200', 'twelve');
  });
});

describe('outcomes', () => {
  const outcome: RecordOutcome = {
    entity: 'patients',
    sourceId: 'C1',
    outcome: 'planned',
    file: 'Clients.csv',
    row: 2,
    hash: 'h',
  };
  /** What an earlier version stored beside the ids: the patient's name and birth date (issue 23). */
  const legacyLabel = { label: { name: 'Aroha Ngata', dateOfBirth: '1980-02-03' } };

  it('getOutcomes and listOutcomes round-trip a record outcome, leaving keys and TTL behind', async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: { status: [{ ...keys, ...outcome }] } });
    await expect(store.getOutcomes('r1', 'patients', ['C1'])).resolves.toEqual(new Map([['C1', outcome]]));
    ddb.on(QueryCommand).resolves({ Items: [{ ...keys, ...outcome }] });
    const listed: RecordOutcome[] = [];
    for await (const o of store.listOutcomes('r1', 'patients')) listed.push(o);
    expect(listed).toEqual([outcome]);
  });

  it("reads an earlier version's item without the name and birth date it carried", async () => {
    ddb.on(BatchGetCommand).resolves({ Responses: { status: [{ ...keys, ...outcome, ...legacyLabel }] } });
    const read = (await store.getOutcomes('r1', 'patients', ['C1'])).get('C1');
    expect(read).toEqual(outcome);
    expect(JSON.stringify(read)).not.toContain('Aroha');
  });

  it('refuses an outcome item whose row is text, naming the field and not the patient', async () => {
    ddb
      .on(BatchGetCommand)
      .resolves({ Responses: { status: [{ ...keys, ...outcome, ...legacyLabel, row: 'two' }] } });
    await refused(
      store.getOutcomes('r1', 'patients', ['C1']),
      /^status table outcome item RUN#r1\/REC# refused/,
      'row',
      'Aroha',
    );
  });

  it('refuses an outcome item of an unknown entity', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ ...keys, ...outcome, entity: 'invoices' }] });
    const listing = (async () => {
      for await (const _ of store.listOutcomes('r1')) void _;
    })();
    await refused(listing, /outcome item/, 'entity', 'invoices');
  });

  it('listBatchCounts round-trips counts and evidence, and refuses counts missing a field', async () => {
    const counts = {
      entity: 'patients',
      source: 3,
      planned: 2,
      skipped: 0,
      invalid: 1,
      enqueued: 0,
      failed: 0,
    } as const;
    const evidence = { clients: { parsed: 3, proven: true } };
    ddb.on(QueryCommand).resolves({ Items: [{ ...keys, sk: 'BATCH#patients-0', counts, evidence }] });
    await expect(store.listBatchCounts('r1')).resolves.toEqual([
      { batchKey: 'patients-0', counts, evidence },
    ]);
    const { planned: _, ...short } = counts;
    ddb.on(QueryCommand).resolves({ Items: [{ ...keys, sk: 'BATCH#patients-0', counts: short }] });
    await refused(store.listBatchCounts('r1'), /batch item RUN#r1\/BATCH#/, 'counts.planned', 'patients-0');
  });
});

describe('id map and findings', () => {
  const idKeys = { pk: 'CLINIC#c1@au1-1', sk: 'ID#patients#C1', entity: 'patients', expiresAt: 1 };
  const entry = {
    clinikoId: '9007199254740993',
    hash: 'h',
    runId: 'r1',
    at: '2026-11-23T00:00:00.000Z',
    steps: ['alerts'],
  };

  it('getIdMap round-trips a written record and leaves an item holding only a claim out', async () => {
    ddb.on(BatchGetCommand).resolves({
      Responses: {
        status: [
          { ...idKeys, sourceId: 'C1', ...entry, claimOwner: 'w1', claimUntil: 5 },
          { ...idKeys, sk: 'ID#patients#C2', sourceId: 'C2', claimOwner: 'w2', claimUntil: 5 },
        ],
      },
    });
    await expect(store.getIdMap('c1@au1-1', 'patients', ['C1', 'C2'])).resolves.toEqual(
      new Map([['C1', entry]]),
    );
  });

  it('listIdMap fills an older item without hash or steps with their defaults', async () => {
    const { hash: _h, steps: _s, ...older } = entry;
    ddb.on(QueryCommand).resolves({ Items: [{ ...idKeys, sourceId: 'C1', ...older, updatedIn: 'r2' }] });
    const listed = [];
    for await (const e of store.listIdMap('c1@au1-1', 'patients')) listed.push(e);
    expect(listed).toEqual([{ sourceId: 'C1', entry: { ...older, hash: '', steps: [], updatedIn: 'r2' } }]);
  });

  it('refuses an id map item whose Cliniko id is a number (64-bit ids are strings)', async () => {
    ddb.on(QueryCommand).resolves({ Items: [{ ...idKeys, sourceId: 'C1', ...entry, clinikoId: 12345678 }] });
    const listing = (async () => {
      for await (const _ of store.listIdMap('c1@au1-1', 'patients')) void _;
    })();
    await refused(listing, /^status table id map item CLINIC#c1@au1-1\/ID# refused/, 'clinikoId', '12345678');
  });

  it('getFound answers only the run that found the record, and refuses a finding without an id', async () => {
    ddb
      .on(GetCommand)
      .resolves({ Item: { pk: 'CLINIC#s', sk: 'FOUND#patients#khash', clinikoId: '77', runId: 'r1' } });
    await expect(store.getFound('s', 'patients', 'r1', 'khash')).resolves.toBe('77');
    await expect(store.getFound('s', 'patients', 'r2', 'khash')).resolves.toBeUndefined();
    ddb.on(GetCommand).resolves({ Item: { pk: 'CLINIC#s', sk: 'FOUND#patients#khash', runId: 'r1' } });
    await refused(
      store.getFound('s', 'patients', 'r1', 'khash'),
      /found item CLINIC#s\/FOUND#patients#/,
      'clinikoId',
      'khash',
    );
  });

  it('lookupRecord asks for the id map entry and the finding in one consistent read', async () => {
    const found = { pk: 'CLINIC#c1@au1-1', sk: 'FOUND#patients#khash', clinikoId: '77', runId: 'r1' };
    ddb.on(BatchGetCommand).resolves({ Responses: { status: [found] } });
    const finding = { resource: 'patients', runId: 'r1', key: 'khash' };
    await expect(store.lookupRecord('c1@au1-1', 'patients', 'C1', finding)).resolves.toEqual({ found: '77' });
    const calls = ddb.commandCalls(BatchGetCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args[0].input.RequestItems?.status).toEqual({
      Keys: [
        { pk: 'CLINIC#c1@au1-1', sk: 'ID#patients#C1' },
        { pk: 'CLINIC#c1@au1-1', sk: 'FOUND#patients#khash' },
      ],
      ConsistentRead: true,
    });
    // another run's finding is not this run's; a written record comes back as its entry
    ddb.on(BatchGetCommand).resolves({
      Responses: {
        status: [
          { ...found, runId: 'r0' },
          { ...idKeys, sourceId: 'C1', ...entry },
        ],
      },
    });
    await expect(store.lookupRecord('c1@au1-1', 'patients', 'C1', finding)).resolves.toEqual({
      written: entry,
      found: undefined,
    });
    // an item holding only a claim is not written; without a finding only the id map is read
    ddb.reset();
    ddb.on(BatchGetCommand).resolves({
      Responses: { status: [{ ...idKeys, sourceId: 'C1', claimOwner: 'w1', claimUntil: 5 }] },
    });
    await expect(store.lookupRecord('c1@au1-1', 'patients', 'C1')).resolves.toEqual({});
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.status?.Keys).toHaveLength(1);
  });
});

describe('write ledger', () => {
  it('listWrites reads the nulls recordWrite leaves as absent fields, and a retried record without outcome', async () => {
    const written = {
      ...keys,
      entity: 'appointments',
      sourceId: 'A1',
      outcome: 'failed',
      clinikoId: null,
      reason: 'Cliniko refused the record',
      code: 'CLINIKO_REJECTED',
      file: 'Appointments.csv',
      row: 4,
      field: 'StartTime',
      at: '2026-11-23T00:00:00.000Z',
    };
    const retried = { ...keys, entity: 'patients', sourceId: 'C1', lastError: 'HTTP 503', attempts: 2 };
    ddb.on(QueryCommand).resolves({ Items: [written, retried] });
    const listed = [];
    for await (const e of store.listWrites('r1')) listed.push(e);
    const { pk: _p, sk: _s, expiresAt: _x, clinikoId: _c, ...fields } = written;
    expect(listed).toEqual([fields, { entity: 'patients', sourceId: 'C1', lastError: 'HTTP 503' }]);
  });

  it('refuses a write result with an unknown outcome', async () => {
    ddb
      .on(QueryCommand)
      .resolves({ Items: [{ ...keys, entity: 'patients', sourceId: 'C1', outcome: 'teleported' }] });
    const listing = (async () => {
      for await (const _ of store.listWrites('r1')) void _;
    })();
    await refused(listing, /^status table write result item RUN#r1\/OUT# refused/, 'outcome', 'teleported');
  });

  it('writeTotals sums the shards of an entity and refuses a counter that is not a number', async () => {
    ddb.on(QueryCommand).resolves({
      Items: [
        { ...keys, entity: 'patients', created: 3, failed: 1 },
        { ...keys, entity: 'patients', created: 2, alreadyPresent: 1 },
      ],
    });
    await expect(store.writeTotals('r1')).resolves.toEqual({
      patients: { created: 5, alreadyPresent: 1, updated: 0, failed: 1 },
    });
    ddb.on(QueryCommand).resolves({ Items: [{ ...keys, entity: 'patients', created: 'many' }] });
    await refused(store.writeTotals('r1'), /write counter item RUN#r1\/DONE#/, 'created', 'many');
  });
});

describe('rate-limit buckets', () => {
  const buckets = new DynamoBucketStore('limits', new DynamoDBClient({ region: 'ap-southeast-2' }));
  const policy = { ratePerMs: 1 / 1000, capacity: 5 };

  it('peek reads the wait a paused bucket asks for', async () => {
    ddb.on(GetCommand).resolves({ Item: { tokens: 0, updatedAt: 1_000, pausedUntil: 31_000, version: 4 } });
    await expect(buckets.peek('u1', policy, 1_000)).resolves.toBe(30_000);
  });

  it('refuses a bucket item without its refill time', async () => {
    ddb.on(GetCommand).resolves({ Item: { tokens: 2, pausedUntil: 0, version: 1 } });
    await refused(
      buckets.peek('u1', policy, 1_000),
      /^limits table bucket item LIMIT#u1 refused/,
      'updatedAt',
      '2',
    );
  });
});
