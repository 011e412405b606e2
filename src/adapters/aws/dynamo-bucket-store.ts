import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import {
  type BucketPolicy,
  BucketState,
  pauseBucket,
  peekWait,
  type TokenBucketStore,
  takeToken,
} from '../../cliniko/rate-limiter.js';
import { parseAt } from '../../core/boundary.js';

/** A LIMIT item: a bucket's state and the version its conditional writes compare. */
const LimitItem = BucketState.extend({ version: z.number().default(0) });

/**
 * The token bucket of one Cliniko user, shared by every concurrent writer Lambda: read, compute
 * (the arithmetic is the in-process bucket's), and write back only if nobody wrote in between.
 */
export class DynamoBucketStore implements TokenBucketStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    private readonly table: string,
    client: DynamoDBClient = new DynamoDBClient({}),
  ) {
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async take(bucketId: string, policy: BucketPolicy, now: number): Promise<number> {
    // Each retry after a conflict reads the clock again: the first `now` is stale by then.
    const skew = Date.now() - now;
    return this.update(bucketId, (state) => {
      const r = takeToken(state, policy, Date.now() - skew);
      return { state: r.state, result: r.waitMs };
    });
  }

  /** An eventually consistent read: a lane's load is a hint, never a promise. */
  async peek(bucketId: string, policy: BucketPolicy, now: number): Promise<number> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `LIMIT#${bucketId}`, sk: 'LIMIT' } }),
    );
    if (!res.Item) return 0;
    return peekWait(limitItem(bucketId, res.Item), policy, now);
  }

  async pauseUntil(bucketId: string, untilMs: number, now: number): Promise<void> {
    await this.update(bucketId, (state) => ({ state: pauseBucket(state, untilMs, now), result: undefined }));
  }

  private async update<R>(
    bucketId: string,
    change: (state: BucketState | undefined) => { state: BucketState; result: R },
  ): Promise<R> {
    const key = { pk: `LIMIT#${bucketId}`, sk: 'LIMIT' };
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
      const { state, result } = change(previous);
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...key, ...state, version: version + 1 },
            ConditionExpression: res.Item ? '#v = :v' : 'attribute_not_exists(pk)',
            ...(res.Item
              ? {
                  ExpressionAttributeNames: { '#v': 'version' },
                  ExpressionAttributeValues: { ':v': version },
                }
              : {}),
          }),
        );
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
