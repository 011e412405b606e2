import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  type BucketPolicy,
  BucketState,
  holdAfterTake,
  holdCallers,
  pauseBucket,
  peekWait,
  RateLimitWait,
  type TokenBucketStore,
  takeToken,
} from '../../cliniko/rate-limiter.js';
import { parseAt } from '../../core/boundary.js';

/**
 * A LIMIT item: a bucket's state, the version its conditional writes compare, and how its callers
 * are held back (`wait`: reason and epoch-ms times only, three small attributes whatever the run's
 * length; no key, no record).
 */
const LimitItem = BucketState.extend({ version: z.number().default(0), wait: RateLimitWait.optional() });

/** The item key of a bucket's LIMIT item. */
const limitKey = (bucketId: string) => ({ pk: `LIMIT#${bucketId}`, sk: 'LIMIT' });

/**
 * The token bucket of one Cliniko user, shared by every concurrent writer Lambda: read, compute
 * (the arithmetic is the in-process bucket's), and write back only if nobody wrote in between.
 *
 * It also keeps, on the same item and in the same conditional write, how the bucket's callers are
 * held back (the in-process store's `waiting()`, by the same rules: `holdAfterTake`,
 * `holdCallers`), so a deployed run's `status` can say it waits for Cliniko's rate limit (issue 23)
 * by reading {@link waiting}. A wait ends when Cliniko answers something other than 429
 * ({@link answered}): the container that last saw a wait recorded removes it, one write per
 * stretch, not one per request.
 */
export class DynamoBucketStore implements TokenBucketStore {
  private readonly doc: DynamoDBDocumentClient;
  /** The stretch each bucket's item held when this container last read or wrote it (`since`). */
  private readonly seenWait = new Map<string, number>();

  constructor(
    private readonly table: string,
    client: DynamoDBClient = new DynamoDBClient({}),
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async take(bucketId: string, policy: BucketPolicy, now: number): Promise<number> {
    // Each retry after a conflict reads the clock again: the first `now` is stale by then.
    const skew = Date.now() - now;
    return this.update(bucketId, (state, wait) => {
      const at = Date.now() - skew;
      const r = takeToken(state, policy, at);
      return { state: r.state, wait: holdAfterTake(wait, r, at), result: r.waitMs };
    });
  }

  /** An eventually consistent read: a lane's load is a hint, never a promise. */
  async peek(bucketId: string, policy: BucketPolicy, now: number): Promise<number> {
    const res = await this.doc.send(new GetCommand({ TableName: this.table, Key: limitKey(bucketId) }));
    if (!res.Item) return 0;
    return peekWait(limitItem(bucketId, res.Item), policy, now);
  }

  async pauseUntil(bucketId: string, untilMs: number, now: number): Promise<void> {
    await this.update(bucketId, (state, wait) => ({
      state: pauseBucket(state, untilMs, now),
      wait: holdCallers(wait, 'cliniko-429', untilMs, now),
      result: undefined,
    }));
  }

  /**
   * Cliniko answered a request of the bucket with something other than 429: the stretch of waiting
   * this container last saw on the item is over, so it is removed (only that stretch: one a 429
   * began since is kept), with the version bumped so a writer that read the wait before cannot
   * put it back. Nothing to write when this container saw no wait. Never rejects: the record is
   * what `status` shows, and a failed write of it must not fail a request Cliniko accepted (the
   * next answer removes it).
   */
  async answered(bucketId: string): Promise<void> {
    const since = this.seenWait.get(bucketId);
    if (since === undefined) return;
    this.seenWait.delete(bucketId);
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: limitKey(bucketId),
          UpdateExpression: 'REMOVE #w SET #v = #v + :one',
          ConditionExpression: '#w.#s = :since',
          ExpressionAttributeNames: { '#w': 'wait', '#s': 'since', '#v': 'version' },
          ExpressionAttributeValues: { ':since': since, ':one': 1 },
        }),
      );
    } catch {
      // Another stretch began, or another container removed this one, or the write failed: the
      // item says what it says, and the next answer seen after a wait tries again.
    }
  }

  /**
   * How the callers of `bucketIds` (a run's Cliniko users: `userBucketId`) are held back, merged:
   * since the earliest stretch, until the latest end, Cliniko's 429 when any bucket met one; or
   * `undefined` when none is. Epoch ms. For `status` of a deployed run; an eventually consistent
   * read, as a display needs no more.
   */
  async waiting(bucketIds: readonly string[]): Promise<RateLimitWait | undefined> {
    if (bucketIds.length === 0) return undefined;
    const res = await this.doc.send(
      new BatchGetCommand({
        RequestItems: { [this.table]: { Keys: [...new Set(bucketIds)].slice(0, 100).map(limitKey) } },
      }),
    );
    let merged: RateLimitWait | undefined;
    for (const item of res.Responses?.[this.table] ?? []) {
      const wait = parseAt(`status table bucket item ${String(item.pk)}`, LimitItem, item).wait;
      if (!wait) continue;
      merged = merged
        ? {
            reason: merged.reason === 'cliniko-429' ? merged.reason : wait.reason,
            since: Math.min(merged.since, wait.since),
            until: Math.max(merged.until, wait.until),
          }
        : wait;
    }
    return merged;
  }

  private async update<R>(
    bucketId: string,
    change: (
      state: BucketState | undefined,
      wait: RateLimitWait | undefined,
    ) => { state: BucketState; wait: RateLimitWait | undefined; result: R },
  ): Promise<R> {
    const key = limitKey(bucketId);
    for (let attempt = 0; ; attempt++) {
      const res = await this.doc.send(
        new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }),
      );
      const stored = res.Item ? limitItem(bucketId, res.Item) : undefined;
      const version = stored?.version ?? 0;
      const previous = stored && {
        tokens: stored.tokens,
        updatedAt: stored.updatedAt,
        pausedUntil: stored.pausedUntil,
      };
      const { state, wait, result } = change(previous, stored?.wait);
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...key, ...state, ...(wait ? { wait } : {}), version: version + 1 },
            ConditionExpression: res.Item ? '#v = :v' : 'attribute_not_exists(pk)',
            ...(res.Item
              ? {
                  ExpressionAttributeNames: { '#v': 'version' },
                  ExpressionAttributeValues: { ':v': version },
                }
              : {}),
          }),
        );
        if (wait) this.seenWait.set(bucketId, wait.since);
        else this.seenWait.delete(bucketId);
        return result;
      } catch (err) {
        if (!(err instanceof ConditionalCheckFailedException) || attempt > 100) throw err;
        // Someone else took a token in between: back off a little, with jitter, and read again.
        await new Promise((r) => setTimeout(r, Math.random() * Math.min(200, 5 * 2 ** Math.min(attempt, 6))));
      }
    }
  }
}

/** Parses a LIMIT item (the bucket id is a Cliniko user id, never a patient's). */
const limitItem = (bucketId: string, item: Record<string, unknown>) =>
  parseAt(`limits table bucket item LIMIT#${bucketId}`, LimitItem, item);
