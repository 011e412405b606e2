import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { mapBatch } from '../../lambdas/map-batch/map-batch.js';
import { dynamoStatusStore } from '../../src/adapters/aws/dynamo-status-store.js';
import type { RowBatch } from '../../src/core/row-batch.js';
import type { StatusStore } from '../../src/ports/status-store.js';
import { accountKeys, naturalKeyHash } from '../../src/reconcile/resources.js';
import { loadProfile } from '../../src/source/profile.js';
import { type LocalTable, localStatusTable } from '../support/dynalite.js';
import { memoryBlobs } from '../support/memory-blobs.js';
import { runInfo } from '../support/run-info.js';

/**
 * A dry run's settle after a live run (issue 24): a batch's findings are read in one batched
 * look-up per resource, not one GetItem per row (150,000 sequential reads for 150,000
 * appointments), and the batch is counted as the per-row reads counted it.
 */
let local: LocalTable;
beforeAll(async () => {
  local = await localStatusTable();
});
afterAll(async () => {
  await local.close();
});

describe('dry settle', () => {
  it('reads a batch of 150 patients found in the account with one batched look-up, not 150', async () => {
    const run = runInfo({ runId: 'dry-2', mode: 'dry-run', scope: 'c1@au1-1' });
    const dynamo = dynamoStatusStore(local.name, local.client);
    await dynamo.putRun(run);
    const ids = Array.from({ length: 150 }, (_, i) => `C${i}`);
    // reconciliation found 140 of them in the account under their reference (the source id)
    await dynamo.putFound(
      run.scope,
      'patients',
      run.runId,
      ids.slice(0, 140).map((id, i) => ({ key: naturalKeyHash(id), clinikoId: `${700 + i}` })),
    );
    const objects = new Map<string, unknown>();
    objects.set(accountKeys.summary(run.runId, 'patients'), {
      read: 140,
      requests: 2,
      notInCliniko: 0,
      found: 140,
    });
    const batch: RowBatch = {
      table: 'clients',
      file: 'Clients.csv',
      rows: ids.map((id, i) => ({
        row: i + 2,
        values: { ClientId: id, FirstName: 'Ann', LastName: `Lee${i}` },
        extra: [],
      })),
    };
    objects.set('batch-1', batch);
    const reads = { getFound: 0, getFoundMany: 0 };
    const store: StatusStore = {
      ...dynamo,
      getFound: (...a) => {
        reads.getFound++;
        return dynamo.getFound(...a);
      },
      getFoundMany: (...a) => {
        reads.getFoundMany++;
        return dynamo.getFoundMany(...a);
      },
    };
    await mapBatch(
      { runId: run.runId, batchKey: 'batch-1' },
      {
        blobs: memoryBlobs(objects),
        store,
        queue: { send: async () => undefined, outstanding: async () => 0 },
        profile: loadProfile(),
      },
    );
    expect(reads).toEqual({ getFound: 0, getFoundMany: 1 });
    const [counts] = await dynamo.listBatchCounts(run.runId);
    expect(counts?.counts).toMatchObject({
      entity: 'patients',
      source: 150,
      planned: 10,
      alreadyPresent: 140,
      updated: 0,
    });
  });
});
