import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Sandbox } from '../../apps/sandbox/server.js';
import {
  acquireLease,
  isLeaseMarker,
  LeaseHeldError,
  LeaseLostError,
  listLeaseMarkers,
  releaseLease,
  renewLease,
  takeOverLease,
} from '../../src/lease/account-lease.js';
import { clientFor, withSandbox } from '../support/sandbox.js';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await withSandbox({ rateLimit: 100_000 });
});
afterAll(async () => {
  await sandbox.close();
});

const owner = (runId: string, ttlSeconds?: number) => ({
  runId,
  startedAt: '2026-12-05T03:00:00Z',
  where: `host-${runId}`,
  ...(ttlSeconds ? { ttlSeconds } : {}),
});

describe('the account lease against the sandbox', () => {
  it('two runners starting together: exactly one holds, the other is refused naming it, five times over', async () => {
    const client = clientFor(sandbox);
    for (let round = 0; round < 5; round++) {
      const results = await Promise.allSettled([
        acquireLease({ client, owner: owner(`a${round}`), settleMs: 50 }),
        acquireLease({ client, owner: owner(`b${round}`), settleMs: 50 }),
      ]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]).toBeInstanceOf(LeaseHeldError);
      const markers = await listLeaseMarkers(client);
      expect(markers).toHaveLength(1);
      expect((lost[0] as Error).message).toContain(`run ${markers[0]?.owner?.runId}`);
      expect((lost[0] as Error).message).toContain(`on host-${markers[0]?.owner?.runId}`);
      await releaseLease(client, markers[0]?.owner?.runId ?? '');
      expect(await listLeaseMarkers(client)).toHaveLength(0);
    }
  });

  it('an expired marker blocks no one and is archived by the new holder, whose renewal the old one then loses', async () => {
    const client = clientFor(sandbox);
    await acquireLease({ client, owner: owner('crashed', 1), settleMs: 10 });
    await new Promise((r) => setTimeout(r, 2_100));
    await acquireLease({ client, owner: owner('next'), settleMs: 10 });
    await expect(renewLease(client, owner('crashed', 1))).rejects.toBeInstanceOf(LeaseLostError);
    await releaseLease(client, 'next');
  });

  it('take-over removes the holder: the next runner holds, the one taken over loses at its renewal', async () => {
    const client = clientFor(sandbox);
    await acquireLease({ client, owner: owner('holder'), settleMs: 10 });
    await expect(acquireLease({ client, owner: owner('second'), settleMs: 10 })).rejects.toBeInstanceOf(
      LeaseHeldError,
    );
    const taken = await takeOverLease(client, 'second');
    expect(taken.map((t) => t.runId)).toEqual(['holder']);
    await acquireLease({ client, owner: owner('second'), settleMs: 10 });
    await expect(renewLease(client, owner('holder'))).rejects.toBeInstanceOf(LeaseLostError);
    await releaseLease(client, 'second');
  });

  it('a marker is told apart from a clinic contact', () => {
    expect(isLeaseMarker({ company_name: 'cliniko-migrate lease' })).toBe(true);
    expect(isLeaseMarker({ company_name: 'Harbour Physio' })).toBe(false);
  });
});
