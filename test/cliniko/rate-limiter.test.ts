import { describe, expect, it } from '@jest/globals';
import {
  type BucketPolicy,
  bucketPolicy,
  DeferError,
  InMemoryBucketStore,
  PEEK_TTL_MS,
  RateLimiter,
  takeToken,
} from '../../src/cliniko/rate-limiter.js';

/** A store that counts what it is asked: each ask is a DynamoDB round trip on AWS. */
class CountingStore extends InMemoryBucketStore {
  takes = 0;
  peeks = 0;
  override take(bucketId: string, policy: BucketPolicy, now: number): Promise<number> {
    this.takes++;
    return super.take(bucketId, policy, now);
  }
  override peek(bucketId: string, policy: BucketPolicy, now: number): Promise<number> {
    this.peeks++;
    return super.peek(bucketId, policy, now);
  }
}

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

  it('lets one caller per bucket in a process ask the store: the others wait in line, they do not poll', async () => {
    // Arrange: a real clock on a fast bucket (120 tokens a second, a burst of 2)
    const store = new CountingStore();
    const limiter = () =>
      new RateLimiter(store, 'user-1', { limit: 120, windowMs: 1_000, fraction: 1, burst: 2 });
    // Act: 20 callers at once, each through its own limiter (as each writer invocation builds its own)
    const started = Date.now();
    await Promise.all(Array.from({ length: 20 }, () => limiter().acquire()));
    const elapsed = Date.now() - started;
    // Assert: at the bucket's rate (18 tokens after the burst take about 150 ms) and no herd: a
    // caller asks about twice (empty, then after its wait), never once per token another took
    expect(elapsed).toBeGreaterThanOrEqual(130);
    expect(store.takes).toBeLessThanOrEqual(2 * 20 + 2);
  });

  it('hands work back when the token a caller waits for is further away than it may wait', async () => {
    const store = new CountingStore();
    const make = () =>
      new RateLimiter(store, 'user-1', { limit: 60, windowMs: 60_000, fraction: 1, burst: 1 });
    await make().pauseUntil(Date.now() + 5_000);
    // two callers in line, each allowed 100 ms: both are told to come back, neither sleeps 5 s
    const started = Date.now();
    const results = await Promise.allSettled([make().acquire(100), make().acquire(100)]);
    expect(results.map((r) => r.status === 'rejected' && r.reason instanceof DeferError)).toEqual([
      true,
      true,
    ]);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it("reads a lane's load from the store at most once per PEEK_TTL_MS, and counts its own line", async () => {
    let now = 1_000_000;
    const clock = {
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
    };
    const store = new CountingStore();
    const limiter = new RateLimiter(
      store,
      'user-1',
      { limit: 60, windowMs: 60_000, fraction: 1, burst: 1 },
      clock,
    );
    await limiter.acquire();
    // the bucket is empty: a token in a second
    expect(await limiter.peek()).toBe(1_000);
    expect(await limiter.peek()).toBe(1_000);
    expect(store.peeks).toBe(1);
    now += 100;
    expect(await limiter.peek()).toBe(900);
    expect(store.peeks).toBe(1);
    now += PEEK_TTL_MS;
    await limiter.peek();
    expect(store.peeks).toBe(2);
    // a 429's pause is seen at once, not after the cached read expires
    await limiter.pauseUntil(now + 5_000);
    expect(await limiter.peek()).toBe(5_000);
    expect(store.peeks).toBe(3);
  });
});
