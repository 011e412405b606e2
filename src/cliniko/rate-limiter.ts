import { z } from 'zod';

/**
 * A token bucket shared by everything that calls Cliniko with one user's key. Cliniko allows
 * 200 requests per minute per user in (we believe) fixed windows, so the bucket refills at a
 * fraction of that and holds only a small burst: in any window it can release at most
 * `burst + fraction × limit`, which stays under the limit. After a 429 every caller pauses until
 * the reset time Cliniko gave.
 *
 * The bucket's state lives in a pluggable store: in process for local runs, DynamoDB (with
 * conditional writes) for concurrent Lambdas. The arithmetic is here, once, for both.
 */
export const BucketState = z.object({
  tokens: z.number(),
  /** Epoch milliseconds of the last refill. */
  updatedAt: z.number(),
  /** Epoch milliseconds until which every caller waits (after a 429), 0 when not paused. */
  pausedUntil: z.number(),
});
export type BucketState = Readonly<z.output<typeof BucketState>>;

export interface BucketPolicy {
  /** Tokens added per millisecond. */
  readonly ratePerMs: number;
  readonly capacity: number;
}

export interface TakeResult {
  readonly state: BucketState;
  /** 0 when a token was taken; otherwise how long to wait before asking again. */
  readonly waitMs: number;
}

export function takeToken(previous: BucketState | undefined, policy: BucketPolicy, now: number): TakeResult {
  const state = previous ?? { tokens: policy.capacity, updatedAt: now, pausedUntil: 0 };
  if (state.pausedUntil > now) {
    return { state, waitMs: state.pausedUntil - now };
  }
  // The bucket's clock never goes back: a caller whose `now` is older than the last update (it
  // read the clock before a slow round trip, or its machine's clock lags) must not refill the
  // same interval twice.
  const at = Math.max(now, state.updatedAt);
  const tokens = Math.min(policy.capacity, state.tokens + (at - state.updatedAt) * policy.ratePerMs);
  if (tokens >= 1) {
    return { state: { tokens: tokens - 1, updatedAt: at, pausedUntil: 0 }, waitMs: 0 };
  }
  return {
    state: { tokens, updatedAt: at, pausedUntil: 0 },
    waitMs: Math.max(1, Math.ceil((1 - tokens) / policy.ratePerMs + (at - now))),
  };
}

/** How long until the bucket could give a token, without taking one (0: one is there now). */
export function peekWait(previous: BucketState | undefined, policy: BucketPolicy, now: number): number {
  if (!previous) return 0;
  if (previous.pausedUntil > now) return previous.pausedUntil - now;
  const at = Math.max(now, previous.updatedAt);
  const tokens = Math.min(policy.capacity, previous.tokens + (at - previous.updatedAt) * policy.ratePerMs);
  return tokens >= 1 ? 0 : Math.max(1, Math.ceil((1 - tokens) / policy.ratePerMs + (at - now)));
}

export function pauseBucket(previous: BucketState | undefined, untilMs: number, now: number): BucketState {
  const state = previous ?? { tokens: 0, updatedAt: now, pausedUntil: 0 };
  // A window just reset: start it with an empty bucket so the pause is not followed by a burst
  // that lands in the same window as other users' retries.
  return {
    tokens: 0,
    updatedAt: Math.max(untilMs, state.updatedAt),
    pausedUntil: Math.max(untilMs, state.pausedUntil),
  };
}

/**
 * How the callers of a store are being held back by the rate limit, for an operator who would
 * otherwise see nothing happen (issue 23). Times are epoch milliseconds.
 */
export const RateLimitWait = z
  .object({
    /**
     * `cliniko-429`: Cliniko answered 429 and every caller waits for the reset it gave
     * (X-RateLimit-Reset, Cliniko's API documentation: rate limiting); `own-limit`: the bucket itself was empty.
     */
    reason: z.enum(['cliniko-429', 'own-limit']),
    /** When a caller was first held back with no answer from Cliniko (other than a 429) since. */
    since: z.number(),
    /** The instant the latest wait ends: a 429's reset, or when the bucket has a token again. */
    until: z.number(),
  })
  .readonly();
export type RateLimitWait = z.output<typeof RateLimitWait>;

/**
 * The wait after a caller was held back (`reason`, until `untilMs`) at `now`. The stretch keeps
 * its start until Cliniko answers something other than 429 ({@link TokenBucketStore.answered}):
 * when Cliniko answers 429 to everything, the request sent at each reset is answered 429 again,
 * and the run has been waiting since the first. A stretch that met a 429 stays Cliniko's doing to
 * its end (after a reset the bucket starts empty, so its own short waits follow every pause), and
 * it lasts until the latest end of a wait still in force.
 */
export function holdCallers(
  previous: RateLimitWait | undefined,
  reason: RateLimitWait['reason'],
  untilMs: number,
  now: number,
): RateLimitWait {
  return {
    reason: previous?.reason === 'cliniko-429' ? 'cliniko-429' : reason,
    since: previous?.since ?? now,
    until: previous && previous.until > now ? Math.max(previous.until, untilMs) : untilMs,
  };
}

/**
 * The wait after a take (`result`, of the bucket whose state was `result.state`) at `now`: the
 * stretch goes on (see {@link holdCallers}) when the caller was held back, else it is unchanged
 * (a token given is no answer from Cliniko yet). One rule for every store.
 */
export function holdAfterTake(
  previous: RateLimitWait | undefined,
  result: TakeResult,
  now: number,
): RateLimitWait | undefined {
  if (result.waitMs <= 0) return previous;
  const reason = result.state.pausedUntil > now ? 'cliniko-429' : 'own-limit';
  return holdCallers(previous, reason, now + result.waitMs, now);
}

export interface TokenBucketStore {
  /** Takes one token atomically; resolves to 0 when taken, or the milliseconds to wait. */
  take(bucketId: string, policy: BucketPolicy, now: number): Promise<number>;
  pauseUntil(bucketId: string, untilMs: number, now: number): Promise<void>;
  /** Milliseconds until a token would be there, taking none: how loaded a key is (its lane). */
  peek?(bucketId: string, policy: BucketPolicy, now: number): Promise<number>;
  /**
   * Cliniko answered a request of the bucket with something other than 429: nobody is held back.
   * A shared store may write that down (a promise, awaited by the client before it goes on).
   */
  answered?(bucketId: string, now: number): void | Promise<void>;
}

/**
 * The buckets of one process (a local run, the CLI). It also keeps how its callers are being held
 * back ({@link waiting}), which the local runner shows the operator; the store shared by Lambdas
 * keeps the same on its bucket items (src/adapters/aws/dynamo-bucket-store.ts).
 */
export class InMemoryBucketStore implements TokenBucketStore {
  private readonly buckets = new Map<string, BucketState>();
  private held: RateLimitWait | undefined;

  async peek(bucketId: string, policy: BucketPolicy, now: number): Promise<number> {
    return peekWait(this.buckets.get(bucketId), policy, now);
  }

  async take(bucketId: string, policy: BucketPolicy, now: number): Promise<number> {
    const result = takeToken(this.buckets.get(bucketId), policy, now);
    this.buckets.set(bucketId, result.state);
    this.held = holdAfterTake(this.held, result, now);
    return result.waitMs;
  }

  async pauseUntil(bucketId: string, untilMs: number, now: number): Promise<void> {
    this.buckets.set(bucketId, pauseBucket(this.buckets.get(bucketId), untilMs, now));
    this.held = holdCallers(this.held, 'cliniko-429', untilMs, now);
  }

  answered(): void {
    this.held = undefined;
  }

  /** How this store's callers are held back now, or `undefined` when Cliniko last answered them. */
  waiting(): RateLimitWait | undefined {
    return this.held;
  }
}

export interface RateLimitOptions {
  /** Requests Cliniko allows per window and user. */
  readonly limit?: number;
  readonly windowMs?: number;
  /** Share of the limit the bucket refills at. */
  readonly fraction?: number;
  /** Tokens the bucket can hold; by default half the headroom the fraction leaves. */
  readonly burst?: number;
}

export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export function bucketPolicy(options: RateLimitOptions = {}): BucketPolicy {
  const limit = options.limit ?? 200;
  const windowMs = options.windowMs ?? 60_000;
  const fraction = options.fraction ?? 0.96;
  if (!(limit > 0) || !(windowMs > 0) || !(fraction > 0 && fraction <= 1)) {
    throw new RangeError('rate limit needs limit > 0, windowMs > 0 and 0 < fraction <= 1');
  }
  const burst = options.burst ?? Math.max(1, Math.floor((limit * (1 - fraction)) / 2));
  return { ratePerMs: (limit * fraction) / windowMs, capacity: burst };
}

/** What the client needs of a limiter. */
export interface Limiter {
  acquire(): Promise<void>;
  pauseUntil(untilMs: number): Promise<void>;
  /** Milliseconds until a request could go out now (0 when a token is there); unknown: 0. */
  peek?(): Promise<number>;
  /** Cliniko answered a request with something other than 429 (the end of any wait for it). */
  answered?(): void | Promise<void>;
}

/** The limiter asked a caller to wait longer than it may: come back later instead of sleeping. */
export class DeferError extends Error {
  override name = 'DeferError';
  constructor(readonly delayMs: number) {
    super(`rate limit: next request allowed in ${delayMs} ms`);
  }
}

/**
 * The callers of one bucket in this process, in line: only the head asks the store for a token.
 * Without it every concurrent caller polls the shared bucket after each sleep, and all but one of
 * them are told to wait again: on DynamoDB that is a read and a conditional write per caller per
 * token, most of them conflicts (measured: eight keys, ten writes each in flight, spent more CPU on
 * the bucket than on Cliniko). Keyed by store, so separate stores (tests, clinics) never share a line.
 */
interface Line {
  /** Settles when the last caller to join has its token (or gave up). */
  tail: Promise<void>;
  /** Callers waiting or at the head. */
  length: number;
  /** The store's last answer to `peek`, and when it was read (the limiter's clock). */
  peeked?: { readonly waitMs: number; readonly at: number };
}
const lines = new WeakMap<TokenBucketStore, Map<string, Line>>();

/** How long a peek at the shared bucket stays a good enough hint of a lane's load. */
export const PEEK_TTL_MS = 250;

export class RateLimiter implements Limiter {
  readonly policy: BucketPolicy;

  constructor(
    private readonly store: TokenBucketStore,
    /** One bucket per Cliniko user: all keys of a user share Cliniko's limit. */
    readonly bucketId: string,
    options: RateLimitOptions = {},
    private readonly clock: Clock = systemClock,
  ) {
    this.policy = bucketPolicy(options);
  }

  private line(): Line {
    let byBucket = lines.get(this.store);
    if (!byBucket) {
      byBucket = new Map();
      lines.set(this.store, byBucket);
    }
    let line = byBucket.get(this.bucketId);
    if (!line) {
      line = { tail: Promise.resolve(), length: 0 };
      byBucket.set(this.bucketId, line);
    }
    return line;
  }

  /**
   * Waits for a token, in line behind this process's other callers of the bucket. With
   * `maxWaitMs`, a token further away than that throws `DeferError` instead: a Lambda is paid for
   * the time it sleeps, so a writer hands its work back for later. The time spent in line is not
   * counted: one token interval per caller ahead, the same wait it had when each caller polled.
   */
  async acquire(maxWaitMs = Number.POSITIVE_INFINITY): Promise<void> {
    const line = this.line();
    let leave = () => {};
    const turn = line.tail;
    line.tail = new Promise<void>((resolve) => {
      leave = resolve;
    });
    line.length++;
    try {
      await turn;
      for (;;) {
        const wait = await this.store.take(this.bucketId, this.policy, this.clock.now());
        if (wait === 0) return;
        if (wait > maxWaitMs) throw new DeferError(wait);
        await this.clock.sleep(wait);
      }
    } finally {
      line.length--;
      leave();
    }
  }

  /**
   * Milliseconds until a token could be had here: this process's line (one token interval per
   * caller in it) plus the shared bucket's own wait, read at most every PEEK_TTL_MS (a lane's load
   * is a hint, never a promise).
   */
  async peek(): Promise<number> {
    const line = this.line();
    const now = this.clock.now();
    if (!line.peeked || now - line.peeked.at >= PEEK_TTL_MS || now < line.peeked.at) {
      const waitMs = (await this.store.peek?.(this.bucketId, this.policy, now)) ?? 0;
      line.peeked = { waitMs, at: now };
    }
    const remaining = Math.max(0, line.peeked.waitMs - (now - line.peeked.at));
    return remaining + line.length / this.policy.ratePerMs;
  }

  answered(): void | Promise<void> {
    return this.store.answered?.(this.bucketId, this.clock.now());
  }

  /** After a 429: nobody using this bucket sends again before `untilMs`. */
  async pauseUntil(untilMs: number): Promise<void> {
    await this.store.pauseUntil(this.bucketId, untilMs, this.clock.now());
    // a lane just paused is not to be chosen on a peek read before the 429
    this.line().peeked = undefined;
  }
}
