import { describe, expect, it } from '@jest/globals';
import { bucketPolicy, InMemoryBucketStore, RateLimiter, takeToken } from '../../src/cliniko/rate-limiter.js';

/** A clock that only moves when someone sleeps: the limiter's arithmetic, with no real waiting. */
function fakeClock(start = 1_000_000) {
  let now = start;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}

describe('token bucket', () => {
  it('never lets more than the limit through in any fixed window', async () => {
    const clock = fakeClock(0);
    const limiter = new RateLimiter(
      new InMemoryBucketStore(),
      'user-1',
      { limit: 200, windowMs: 60_000 },
      clock,
    );
    const times: number[] = [];
    for (let i = 0; i < 1000; i++) {
      await limiter.acquire();
      times.push(clock.now());
    }
    // fixed windows at every alignment Cliniko could use
    for (let offset = 0; offset < 60_000; offset += 7_500) {
      const perWindow = new Map<number, number>();
      for (const t of times) {
        const w = Math.floor((t + offset) / 60_000);
        perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
      }
      expect(Math.max(...perWindow.values())).toBeLessThanOrEqual(200);
    }
    const elapsedMin = (times.at(-1) ?? 0) / 60_000;
    // close to the configured share of the limit: the benchmark checks the real thing
    expect(1000 / elapsedMin).toBeGreaterThan(190);
  });

  it('pauses every caller of the bucket until the reset after a 429', async () => {
    const clock = fakeClock();
    const store = new InMemoryBucketStore();
    const a = new RateLimiter(store, 'shared', {}, clock);
    const b = new RateLimiter(store, 'shared', {}, clock);
    await a.pauseUntil(clock.now() + 5_000);
    const before = clock.now();
    await b.acquire();
    expect(clock.now() - before).toBeGreaterThanOrEqual(5_000);
  });

  it('keeps separate users separate', async () => {
    const clock = fakeClock();
    const store = new InMemoryBucketStore();
    await new RateLimiter(store, 'u1', {}, clock).pauseUntil(clock.now() + 60_000);
    const before = clock.now();
    await new RateLimiter(store, 'u2', {}, clock).acquire();
    expect(clock.now()).toBe(before);
  });

  it('reports how long to wait when empty', () => {
    const policy = bucketPolicy({ limit: 60, windowMs: 60_000, fraction: 1, burst: 1 });
    const first = takeToken(undefined, policy, 0);
    expect(first.waitMs).toBe(0);
    const second = takeToken(first.state, policy, 0);
    expect(second.waitMs).toBe(1000);
  });

  it("never refills an interval twice when a caller's clock is behind the bucket's", () => {
    const policy = bucketPolicy({ limit: 60, windowMs: 60_000, fraction: 1, burst: 5 });
    const state = { tokens: 0, updatedAt: 10_000, pausedUntil: 0 };
    const late = takeToken(state, policy, 4_000);
    expect(late.state.updatedAt).toBe(10_000);
    expect(late.state.tokens).toBe(0);
    expect(late.waitMs).toBe(7_000);
    // and a caller on time afterwards gets exactly the tokens of the time that passed
    expect(takeToken(late.state, policy, 12_000).state.tokens).toBe(1);
  });

  it('refuses nonsense settings', () => {
    expect(() => bucketPolicy({ fraction: 1.5 })).toThrow(RangeError);
    expect(() => bucketPolicy({ limit: 0 })).toThrow(RangeError);
  });
});
