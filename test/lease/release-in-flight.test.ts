import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Sandbox } from '../../apps/sandbox/server.js';
import {
  acquireLease,
  type LeaseClient,
  LeaseHeldError,
  listLeaseMarkers,
  releaseLease,
} from '../../src/lease/account-lease.js';
import { clientFor, withSandbox } from '../support/sandbox.js';

/**
 * A stop that comes while a run is taking the account's lease (issue 23: Ctrl-C pressed twice
 * while Preflight creates the run's marker) releases the marker the acquisition is still creating,
 * rather than listing none and leaving it to hold the account for 15 minutes.
 */
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await withSandbox({ rateLimit: 100_000 });
});
afterAll(async () => {
  await sandbox.close();
});

const owner = (runId: string) => ({ runId, startedAt: '2026-12-05T03:00:00Z', where: `host-${runId}` });

/** The sandbox's client, with creating a marker held until `open` is called. */
function heldCreates(): { client: LeaseClient; open: () => void; creating: Promise<void> } {
  const client = clientFor(sandbox);
  let open = () => {};
  const gate = new Promise<void>((r) => {
    open = r;
  });
  let started = () => {};
  const creating = new Promise<void>((r) => {
    started = r;
  });
  return {
    open,
    creating,
    client: {
      listAll: (...args) => client.listAll(...args),
      call: async (...args) => {
        if (args[0] === 'POST' && args[1] === '/contacts') {
          started();
          await gate;
        }
        return client.call(...args);
      },
    },
  };
}

describe('releasing the lease while it is being taken', () => {
  it('archives the marker whose create was in flight when the release began', async () => {
    const { client, open, creating } = heldCreates();
    const acquired = acquireLease({ client, owner: owner('stopped'), settleMs: 10 });
    await creating;
    const released = releaseLease(client, 'stopped');
    // the marker's create reaches Cliniko only now, after the release began
    open();
    await acquired;
    await released;
    expect(await listLeaseMarkers(client)).toEqual([]);
    // and the account is free for the next run at once
    await acquireLease({ client: clientFor(sandbox), owner: owner('next'), settleMs: 10 });
    await releaseLease(clientFor(sandbox), 'next');
  });

  it('a refused acquisition leaves no marker, and a release after it waits on nothing', async () => {
    const client = clientFor(sandbox);
    await acquireLease({ client, owner: owner('holder'), settleMs: 10 });
    await expect(acquireLease({ client, owner: owner('loser'), settleMs: 10 })).rejects.toBeInstanceOf(
      LeaseHeldError,
    );
    await releaseLease(client, 'loser');
    expect((await listLeaseMarkers(client)).map((m) => m.owner?.runId)).toEqual(['holder']);
    await releaseLease(client, 'holder');
    expect(await listLeaseMarkers(client)).toEqual([]);
  });
});
