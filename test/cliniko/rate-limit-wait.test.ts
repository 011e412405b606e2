import { describe, expect, it } from '@jest/globals';
import { ClinikoClient } from '../../src/cliniko/client.js';
import { holdCallers, InMemoryBucketStore, RateLimiter } from '../../src/cliniko/rate-limiter.js';
import type { HttpResponse } from '../../src/cliniko/transport.js';

/**
 * What the rate limiter records of its waits, so a quiet run can say it is waiting (issue 23):
 * since when the callers have been held back, why, and until when.
 */
const KEY = 'MxJrZXkiOiI1Njd1amJmZTQ1NyJ9-Zm9vYmFy-au1';
const T0 = 1_700_000_000_000;

describe('holdCallers', () => {
  it('keeps the stretch start across waits and takes the latest end', () => {
    const first = holdCallers(undefined, 'own-limit', T0 + 300, T0);
    expect(first).toEqual({ reason: 'own-limit', since: T0, until: T0 + 300 });
    const paused = holdCallers(first, 'cliniko-429', T0 + 20_000, T0 + 500);
    expect(paused).toEqual({ reason: 'cliniko-429', since: T0, until: T0 + 20_000 });
  });

  it('keeps a stretch that met a 429 as Cliniko’s doing, lasting to the latest end in force', () => {
    const paused = holdCallers(undefined, 'cliniko-429', T0 + 20_000, T0);
    expect(holdCallers(paused, 'own-limit', T0 + 2_300, T0 + 2_000)).toEqual(paused);
    expect(holdCallers(paused, 'cliniko-429', T0 + 10_000, T0 + 1_000).until).toBe(T0 + 20_000);
    // after the reset the bucket starts empty: its own wait follows, still because of the 429
    expect(holdCallers(paused, 'own-limit', T0 + 20_300, T0 + 20_100)).toEqual({
      reason: 'cliniko-429',
      since: T0,
      until: T0 + 20_300,
    });
    // a stretch of the bucket's own waits stays its own
    const own = holdCallers(undefined, 'own-limit', T0 + 300, T0);
    expect(holdCallers(own, 'own-limit', T0 + 900, T0 + 600)).toEqual({
      reason: 'own-limit',
      since: T0,
      until: T0 + 900,
    });
  });
});

describe('InMemoryBucketStore.waiting', () => {
  it('reports a 429 pause until Cliniko answers something else, and an empty bucket as its own limit', async () => {
    const store = new InMemoryBucketStore();
    const policy = { ratePerMs: 0.001, capacity: 1 };
    expect(store.waiting()).toBeUndefined();
    expect(await store.take('b', policy, T0)).toBe(0);
    expect(store.waiting()).toBeUndefined();
    // the bucket is empty: a token comes in a second
    expect(await store.take('b', policy, T0)).toBe(1000);
    expect(store.waiting()).toEqual({ reason: 'own-limit', since: T0, until: T0 + 1000 });
    await store.pauseUntil('b', T0 + 30_000, T0 + 10);
    expect(store.waiting()).toEqual({ reason: 'cliniko-429', since: T0, until: T0 + 30_000 });
    expect(await store.take('b', policy, T0 + 5_000)).toBe(25_000);
    expect(store.waiting()?.reason).toBe('cliniko-429');
    // after the reset a request goes out (a token is taken): the stretch goes on until it is answered
    expect(await store.take('b', policy, T0 + 31_000)).toBe(0);
    expect(store.waiting()?.since).toBe(T0);
    store.answered();
    expect(store.waiting()).toBeUndefined();
  });
});

describe('the client tells the limiter how Cliniko answered', () => {
  it('a run answered 429 again after each reset stays waiting since the first; a 200 ends it', async () => {
    const store = new InMemoryBucketStore();
    let now = T0;
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    const limiter = new RateLimiter(store, 'key:a', { limit: 6000, windowMs: 60_000 }, clock);
    const answers: HttpResponse[] = [429, 429, 429, 200].map((status) => ({
      status,
      headers: status === 429 ? { 'x-ratelimit-reset': String(Math.floor(now / 1000) + 20) } : {},
      body: Buffer.from(status === 200 ? JSON.stringify({ id: '1', first_name: 'A', last_name: 'B' }) : '{}'),
    }));
    const seen: ({ since: number; reason: string } | undefined)[] = [];
    const client = new ClinikoClient({
      apiKey: KEY,
      limiter,
      now: clock.now,
      sleep: clock.sleep,
      transport: async () => {
        const w = store.waiting();
        seen.push(w && { since: w.since, reason: w.reason });
        const answer = answers.shift();
        if (!answer) throw new Error('no more answers');
        // each 429 resets 20 s after the request that got it
        if (answer.status === 429) answer.headers['x-ratelimit-reset'] = String(Math.floor(now / 1000) + 20);
        return answer;
      },
    });
    await client.getCurrentUser();
    // before each retry the store says the callers have waited since the first 429
    expect(seen[0]).toBeUndefined();
    expect(seen.slice(1)).toEqual([
      { since: T0, reason: 'cliniko-429' },
      { since: T0, reason: 'cliniko-429' },
      { since: T0, reason: 'cliniko-429' },
    ]);
    expect(now - T0).toBeGreaterThanOrEqual(60_000);
    expect(store.waiting()).toBeUndefined();
  });
});
