import { describe, expect, it } from '@jest/globals';
import { laneFor, type WriteDeps } from '../../lambdas/write/write-deps.js';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import { InMemoryBucketStore, RateLimiter } from '../../src/cliniko/rate-limiter.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';
import { statusStoreDouble } from '../support/port-doubles.js';

/** Keys as lanes: a note keeps its author's key; other writes leave a drained key for a free one. */
function lanes(tokensTaken: number[]) {
  const store = new InMemoryBucketStore();
  const now = 1_000_000;
  const clock = { now: () => now, sleep: async () => undefined };
  const limiters = tokensTaken.map(
    (_, i) => new RateLimiter(store, `user:${i}`, { limit: 200, burst: 3 }, clock),
  );
  return {
    ready: Promise.all(
      limiters.map(async (l, i) => {
        for (let t = 0; t < (tokensTaken[i] ?? 0); t++) await l.acquire();
      }),
    ),
    deps: {
      store: statusStoreDouble(),
      now: () => new Date(now),
      keyCount: tokensTaken.length,
      cliniko: (i: number) =>
        ({ waitForToken: () => limiters[i]?.peek() ?? Promise.resolve(0) }) as ClinikoClient,
    } satisfies WriteDeps,
  };
}

const cmd = (keyIndex: number, pinnedKey?: boolean) =>
  ({ keyIndex, ...(pinnedKey ? { pinnedKey } : {}) }) as unknown as WriteCommand;

describe('keys as lanes', () => {
  it('keeps the given key while it has a token', async () => {
    const l = lanes([0, 0, 0]);
    await l.ready;
    expect(await laneFor(cmd(1), l.deps)).toBe(1);
  });

  it('moves a write off a drained key to the least loaded one', async () => {
    const l = lanes([3, 3, 1]);
    await l.ready;
    expect(await laneFor(cmd(0), l.deps)).toBe(2);
  });

  it("never moves a note off its author's key", async () => {
    const l = lanes([3, 0]);
    await l.ready;
    expect(await laneFor(cmd(0, true), l.deps)).toBe(0);
  });
});
