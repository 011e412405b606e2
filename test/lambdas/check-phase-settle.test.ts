import { describe, expect, it } from '@jest/globals';
import { checkPhase } from '../../lambdas/check-phase/check-phase.js';
import { dynamoStatusStore } from '../../src/adapters/aws/dynamo-status-store.js';
import { localStatusTable } from '../support/dynalite.js';

/**
 * CheckPhase reads the write counters while writers work, and counts the results themselves once
 * the queue is empty: a writer stopped between a result and its count must not make a finished
 * phase look dead-lettered.
 */
describe('CheckPhase with counters short of the results', () => {
  it('settles from the results when the queue is empty, and only then', async () => {
    const local = await localStatusTable();
    try {
      const store = dynamoStatusStore(local.name, local.client);
      const counts = { source: 2, planned: 2, skipped: 0, invalid: 0, enqueued: 2, failed: 0 };
      await store.putBatchCounts('r1', 'patients:0', { entity: 'patients', ...counts });
      await store.recordWrite('r1', { entity: 'patients', sourceId: 'C1', outcome: 'created' });
      // C2's writer stopped after marking it: the mark is there, its count is not
      local.client.middlewareStack.add(
        (next) => async (args) => {
          if (JSON.stringify(args.input).includes('DONE#')) throw new Error('Task timed out');
          return next(args);
        },
        { step: 'build', name: 'stop' },
      );
      await expect(
        store.recordWrite('r1', { entity: 'patients', sourceId: 'C2', outcome: 'created' }),
      ).rejects.toThrow('Task timed out');
      local.client.middlewareStack.remove('stop');

      let outstanding = 1;
      const queue = { send: async () => undefined, outstanding: async () => outstanding };
      const busy = await checkPhase({ runId: 'r1', phase: 'patients' }, { store, queue });
      expect(busy).toMatchObject({ done: false, enqueued: 2, finished: 1, deadLettered: 0 });

      outstanding = 0;
      const idle = await checkPhase({ runId: 'r1', phase: 'patients' }, { store, queue });
      expect(idle).toMatchObject({ done: true, enqueued: 2, finished: 2, deadLettered: 0 });
    } finally {
      await local.close();
    }
  });
});
