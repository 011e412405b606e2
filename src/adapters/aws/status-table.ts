import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  type BatchGetCommandInput,
  type BatchGetCommandOutput,
  BatchWriteCommand,
  type BatchWriteCommandInput,
  type BatchWriteCommandOutput,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '../../core/environment.js';

/**
 * The status table: one DynamoDB table, keys `pk`/`sk`, serving the ports of the status store.
 * Item families and the adapter that owns each:
 *   RUN#<run>   RUN                        the run (RunInfo, status, excluded counts)     dynamo-runs.ts
 *   RUN#<run>   REQ                        Cliniko requests by status                     dynamo-runs.ts
 *   CLINIC#<c>  DRYRUN#<sha256>            a finished dry run of an export                dynamo-runs.ts
 *   CLINIC#<id> ACTIVE                     the run holding the clinic (one at a time)     dynamo-clinic-gate.ts
 *   RUN#<run>   BATCH#<batch>              a batch's counts (overwritten whole)           dynamo-outcomes.ts
 *   RUN#<run>   REC#<entity>#<source id>   a record's outcome as its mapper saw it        dynamo-outcomes.ts
 *   CLINIC#<c>  ID#<entity>#<source id>    the id map: Cliniko id, hash, steps; claims    dynamo-id-map.ts
 *   CLINIC#<c>  FOUND#<resource>#<key>     a record reconciliation found (natural key)    dynamo-id-map.ts
 *   RUN#<run>   OUT#<entity>#<source id>   a record's write result and count mark          dynamo-write-ledger.ts
 *   RUN#<run>   DONE#<entity>#<shard>      write counters by outcome (numbers only)       dynamo-write-ledger.ts
 * Every item has a size bounded whatever the run's size (test/adapters/item-size.test.ts
 * measures it): anything that grows with the records is one item per record, never a set.
 *   (<c> is the scope: the clinic in one Cliniko account, `<clinic>@<shard>-<account id>`)
 */
/** One put or delete of a batch write, as the document client takes it. */
export type WriteRequest = NonNullable<BatchWriteCommandInput['RequestItems']>[string][number];
/** A table item's key, as the document client takes it. */
type ItemKey = NonNullable<NonNullable<BatchGetCommandInput['RequestItems']>[string]['Keys']>[number];

export class StatusTable {
  readonly doc: DynamoDBDocumentClient;

  constructor(
    readonly name: string,
    client: DynamoDBClient = new DynamoDBClient({}),
    /** How long run records, outcomes and the id map are kept (the audit trail): 7 years by default. */
    private readonly retentionDays = DEFAULT_AUDIT_RETENTION_DAYS,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** DynamoDB's TTL attribute (epoch seconds): the item goes once the retention has passed. */
  expiresAt(): number {
    return Math.floor(Date.now() / 1000) + this.retentionDays * 86_400;
  }

  /** One item by its key, read consistently; undefined when absent. */
  async get(pk: string, sk: string): Promise<Record<string, unknown> | undefined> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.name, Key: { pk, sk }, ConsistentRead: true }),
    );
    return res.Item;
  }

  /** Every item under `pk` whose sort key starts with `prefix`, page by page, read consistently. */
  async *query(pk: string, prefix: string): AsyncIterable<Record<string, unknown>> {
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': pk, ':prefix': prefix },
          ExclusiveStartKey: start,
          ConsistentRead: true,
        }),
      );
      for (const item of res.Items ?? []) yield item;
      start = res.LastEvaluatedKey;
    } while (start);
  }

  /** Writes requests 25 at a time (DynamoDB's limit), retrying unprocessed ones with backoff. */
  async batchWrite(requests: WriteRequest[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending: WriteRequest[] | undefined = requests.slice(i, i + 25);
      for (let attempt = 0; pending?.length; attempt++) {
        const res: BatchWriteCommandOutput = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.name]: pending } }),
        );
        pending = res.UnprocessedItems?.[this.name];
        if (pending?.length) await backoff(attempt);
      }
    }
  }

  /** Reads keys 100 at a time (DynamoDB's limit, duplicates dropped), retrying unprocessed ones. */
  async batchGet(keys: { pk: string; sk: string }[], consistent = false): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    const unique = [...new Map(keys.map((k) => [`${k.pk}|${k.sk}`, k])).values()];
    for (let i = 0; i < unique.length; i += 100) {
      let pending: ItemKey[] | undefined = unique.slice(i, i + 100);
      for (let attempt = 0; pending?.length; attempt++) {
        const res: BatchGetCommandOutput = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.name]: { Keys: pending, ConsistentRead: consistent } },
          }),
        );
        out.push(...(res.Responses?.[this.name] ?? []));
        pending = res.UnprocessedKeys?.[this.name]?.Keys;
        if (pending?.length) await backoff(attempt);
      }
    }
    return out;
  }
}

/** Runs a conditional write; false when its condition failed (any other error is thrown). */
export async function ifCondition(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (err) {
    if (err instanceof ConditionalCheckFailedException) return false;
    throw err;
  }
}

const backoff = (attempt: number) => new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
