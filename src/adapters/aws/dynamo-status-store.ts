import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { EntityCounts } from '../../core/entities.js';
import type {
  BatchCounts,
  CountedEntity,
  IdMapEntry,
  RecordOutcome,
  RunInfo,
  StatusStore,
  WriteOutcome,
  WriteResult,
} from '../../ports/ports.js';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '../../ports/ports.js';

/**
 * The status table: one DynamoDB table, keys `pk`/`sk`.
 *   RUN#<run>   RUN                        the run (RunInfo, status, excluded counts)
 *   RUN#<run>   BATCH#<batch>              a batch's counts (overwritten whole: retries never double count)
 *   RUN#<run>   REC#<entity>#<source id>   a record's outcome as its mapper saw it
 *   RUN#<run>   OUT#<entity>#<source id>   a record's write result (and last error while retried)
 *   RUN#<run>   DONE#<entity>#<shard>      write counters; the set of counted ids makes counting exact
 *   RUN#<run>   REQ                        Cliniko requests by status
 *   CLINIC#<c>  ID#<entity>#<source id>    the clinic's id map: Cliniko id, content hash, steps done
 *   CLINIC#<c>  FOUND#<resource>#<key>     a record reconciliation found in the account (natural key hash)
 *   (<c> is the scope: the clinic in one Cliniko account, `<clinic>@<shard>-<account id>`)
 */
const SHARDS = 32;

function shardOf(sourceId: string): number {
  return Number.parseInt(createHash('md5').update(sourceId).digest('hex').slice(0, 6), 16) % SHARDS;
}

export class DynamoStatusStore implements StatusStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    private readonly table: string,
    client: DynamoDBClient = new DynamoDBClient({}),
    /** How long run records, outcomes and the id map are kept (the audit trail): 7 years by default. */
    private readonly retentionDays = DEFAULT_AUDIT_RETENTION_DAYS,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /** DynamoDB's TTL attribute (epoch seconds): the item goes once the retention has passed. */
  private expiresAt(): number {
    return Math.floor(Date.now() / 1000) + this.retentionDays * 86_400;
  }

  async putRun(run: RunInfo): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: `RUN#${run.runId}`,
          sk: 'RUN',
          run,
          status: 'preflight-passed',
          clinicId: run.clinicId,
          expiresAt: this.expiresAt(),
        },
      }),
    );
  }

  async getRun(runId: string): Promise<RunInfo> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `RUN#${runId}`, sk: 'RUN' }, ConsistentRead: true }),
    );
    if (!res.Item) throw new Error(`run ${runId} is not in the status table`);
    return {
      ...(res.Item.run as RunInfo),
      status: res.Item.status as string,
      ...(res.Item.excluded ? { excluded: res.Item.excluded as Record<string, number> } : {}),
    };
  }

  async updateRunStatus(runId: string, status: string, extra: Record<string, unknown> = {}): Promise<void> {
    const names: Record<string, string> = { '#status': 'status' };
    const values: Record<string, unknown> = { ':status': status };
    const sets = ['#status = :status'];
    for (const [i, [k, v]] of Object.entries(extra).entries()) {
      names[`#k${i}`] = k;
      values[`:v${i}`] = v;
      sets.push(`#k${i} = :v${i}`);
    }
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `RUN#${runId}`, sk: 'RUN' },
        UpdateExpression: `SET ${sets.join(', ')}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }

  async putBatchCounts(
    runId: string,
    batchKey: string,
    counts: BatchCounts,
    evidence?: Record<string, { parsed: number; proven: boolean }>,
  ): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: `RUN#${runId}`,
          sk: `BATCH#${batchKey}`,
          counts,
          ...(evidence ? { evidence } : {}),
          expiresAt: this.expiresAt(),
        },
      }),
    );
  }

  async listBatchCounts(runId: string) {
    const out: {
      batchKey: string;
      counts: BatchCounts;
      evidence?: Record<string, { parsed: number; proven: boolean }>;
    }[] = [];
    for await (const item of this.query(`RUN#${runId}`, 'BATCH#')) {
      out.push({
        batchKey: String(item.sk).slice(6),
        counts: item.counts as BatchCounts,
        ...(item.evidence
          ? { evidence: item.evidence as Record<string, { parsed: number; proven: boolean }> }
          : {}),
      });
    }
    return out;
  }

  async putOutcomes(runId: string, outcomes: readonly RecordOutcome[]): Promise<void> {
    const items = outcomes.map((o) => ({
      PutRequest: {
        Item: { pk: `RUN#${runId}`, sk: `REC#${o.entity}#${o.sourceId}`, ...o, expiresAt: this.expiresAt() },
      },
    }));
    await this.batchWrite(items);
  }

  async getOutcomes(
    runId: string,
    entity: string,
    sourceIds: readonly string[],
  ): Promise<Map<string, RecordOutcome>> {
    const items = await this.batchGet(
      sourceIds.map((id) => ({ pk: `RUN#${runId}`, sk: `REC#${entity}#${id}` })),
    );
    return new Map(items.map((i) => [String(i.sourceId), i as unknown as RecordOutcome]));
  }

  async *listOutcomes(runId: string, entity?: string): AsyncIterable<RecordOutcome> {
    for await (const item of this.query(`RUN#${runId}`, entity ? `REC#${entity}#` : 'REC#'))
      yield item as unknown as RecordOutcome;
  }

  async getIdMap(
    clinicId: string,
    entity: CountedEntity,
    sourceIds: readonly string[],
  ): Promise<Map<string, IdMapEntry>> {
    const items = await this.batchGet(
      sourceIds.map((id) => ({ pk: `CLINIC#${clinicId}`, sk: `ID#${entity}#${id}` })),
      true,
    );
    // An item holding only a claim is not a written record.
    return new Map(items.filter((i) => i.clinikoId).map((i) => [String(i.sourceId), idMapEntry(i)]));
  }

  async recordDryRun(clinicId: string, sha256: string, runId: string): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: `CLINIC#${clinicId}`,
          sk: `DRYRUN#${sha256}`,
          runId,
          sha256,
          expiresAt: this.expiresAt(),
        },
      }),
    );
  }

  async dryRunFor(clinicId: string, sha256: string): Promise<string | undefined> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `CLINIC#${clinicId}`, sk: `DRYRUN#${sha256}` },
        ConsistentRead: true,
      }),
    );
    return res.Item?.runId === undefined ? undefined : String(res.Item.runId);
  }

  async *listIdMap(
    clinicId: string,
    entity: CountedEntity,
  ): AsyncIterable<{ sourceId: string; entry: IdMapEntry }> {
    for await (const i of this.query(`CLINIC#${clinicId}`, `ID#${entity}#`))
      if (i.clinikoId) yield { sourceId: String(i.sourceId), entry: idMapEntry(i) };
  }

  async putIdMap(
    clinicId: string,
    entity: CountedEntity,
    sourceId: string,
    entry: IdMapEntry,
  ): Promise<void> {
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          pk: `CLINIC#${clinicId}`,
          sk: `ID#${entity}#${sourceId}`,
          sourceId,
          entity,
          ...entry,
          steps: [...entry.steps],
          expiresAt: this.expiresAt(),
        },
      }),
    );
  }

  async addIdMapStep(clinicId: string, entity: CountedEntity, sourceId: string, step: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `CLINIC#${clinicId}`, sk: `ID#${entity}#${sourceId}` },
        UpdateExpression: 'SET #steps = list_append(if_not_exists(#steps, :empty), :step)',
        ExpressionAttributeNames: { '#steps': 'steps' },
        ExpressionAttributeValues: { ':step': [step], ':empty': [] },
      }),
    );
  }

  async deleteIdMap(scope: string, entity: CountedEntity, sourceId: string): Promise<void> {
    await this.doc.send(
      new DeleteCommand({
        TableName: this.table,
        Key: { pk: `CLINIC#${scope}`, sk: `ID#${entity}#${sourceId}` },
      }),
    );
  }

  async putFound(
    scope: string,
    resource: string,
    runId: string,
    found: readonly { readonly key: string; readonly clinikoId: string }[],
  ): Promise<void> {
    // Kept a day: only the run that found them reads them.
    const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
    await this.batchWrite(
      found.map((f) => ({
        PutRequest: {
          Item: {
            pk: `CLINIC#${scope}`,
            sk: `FOUND#${resource}#${f.key}`,
            clinikoId: f.clinikoId,
            runId,
            expiresAt,
          },
        },
      })),
    );
  }

  async getFound(scope: string, resource: string, runId: string, key: string): Promise<string | undefined> {
    const res = await this.doc.send(
      new GetCommand({
        TableName: this.table,
        Key: { pk: `CLINIC#${scope}`, sk: `FOUND#${resource}#${key}` },
        ConsistentRead: true,
      }),
    );
    return res.Item && res.Item.runId === runId ? String(res.Item.clinikoId) : undefined;
  }

  async claim(
    clinicId: string,
    entity: CountedEntity,
    sourceId: string,
    owner: string,
    ttlMs: number,
    now: number,
  ) {
    const key = { pk: `CLINIC#${clinicId}`, sk: `ID#${entity}#${sourceId}` };
    try {
      const res = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: key,
          UpdateExpression: 'SET claimOwner = :owner, claimUntil = :until',
          ConditionExpression:
            'attribute_not_exists(clinikoId) AND (attribute_not_exists(claimUntil) OR claimUntil < :now)',
          ExpressionAttributeValues: { ':owner': owner, ':until': now + ttlMs, ':now': now },
          ReturnValues: 'UPDATED_OLD',
        }),
      );
      return res.Attributes?.claimUntil !== undefined ? ('taken-over' as const) : ('claimed' as const);
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
      const item = (
        await this.doc.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }))
      ).Item;
      return item?.clinikoId ? ('done' as const) : ('busy' as const);
    }
  }

  async releaseClaim(
    clinicId: string,
    entity: CountedEntity,
    sourceId: string,
    owner: string,
  ): Promise<void> {
    try {
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `CLINIC#${clinicId}`, sk: `ID#${entity}#${sourceId}` },
          UpdateExpression: 'REMOVE claimOwner, claimUntil',
          ConditionExpression: 'claimOwner = :owner',
          ExpressionAttributeValues: { ':owner': owner },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async recordWrite(runId: string, result: WriteResult): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `RUN#${runId}`, sk: `OUT#${result.entity}#${result.sourceId}` },
        UpdateExpression:
          'SET entity = :e, sourceId = :s, outcome = :o, clinikoId = :c, reason = :r, code = :code, #file = :file, #row = :row, field = :field, #at = if_not_exists(#at, :at), expiresAt = :x',
        ExpressionAttributeNames: { '#at': 'at', '#file': 'file', '#row': 'row' },
        ExpressionAttributeValues: {
          ':at': new Date().toISOString(),
          ':x': this.expiresAt(),
          ':file': result.file ?? null,
          ':row': result.row ?? null,
          ':field': result.field ?? null,
          ':e': result.entity,
          ':s': result.sourceId,
          ':o': result.outcome,
          ':c': result.clinikoId ?? null,
          ':r': result.reason ?? null,
          ':code': result.code ?? null,
        },
      }),
    );
    try {
      // Counted once: the id joins the shard's set in the same update that adds to the counter.
      await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { pk: `RUN#${runId}`, sk: `DONE#${result.entity}#${shardOf(result.sourceId)}` },
          UpdateExpression: 'ADD #ids :id, #outcome :one SET entity = :e, expiresAt = :x',
          ConditionExpression: 'attribute_not_exists(#ids) OR NOT contains(#ids, :sid)',
          ExpressionAttributeNames: { '#ids': 'ids', '#outcome': result.outcome },
          ExpressionAttributeValues: {
            ':id': new Set([result.sourceId]),
            ':sid': result.sourceId,
            ':one': 1,
            ':e': result.entity,
            ':x': this.expiresAt(),
          },
        }),
      );
    } catch (err) {
      if (!(err instanceof ConditionalCheckFailedException)) throw err;
    }
  }

  async noteAttempt(runId: string, entity: CountedEntity, sourceId: string, reason: string): Promise<void> {
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `RUN#${runId}`, sk: `OUT#${entity}#${sourceId}` },
        UpdateExpression: 'SET entity = :e, sourceId = :s, lastError = :r, expiresAt = :x ADD attempts :one',
        ExpressionAttributeValues: {
          ':e': entity,
          ':s': sourceId,
          ':r': reason.slice(0, 500),
          ':one': 1,
          ':x': this.expiresAt(),
        },
      }),
    );
  }

  async writeTotals(runId: string) {
    const totals: Partial<
      Record<CountedEntity, Pick<EntityCounts, 'created' | 'alreadyPresent' | 'updated' | 'failed'>>
    > = {};
    for await (const item of this.query(`RUN#${runId}`, 'DONE#')) {
      const entity = item.entity as CountedEntity;
      const t = totals[entity] ?? { created: 0, alreadyPresent: 0, updated: 0, failed: 0 };
      totals[entity] = t;
      for (const k of ['created', 'alreadyPresent', 'updated', 'failed'] as const)
        t[k] += Number(item[k] ?? 0);
    }
    return totals;
  }

  async *listWrites(runId: string) {
    for await (const item of this.query(`RUN#${runId}`, 'OUT#')) {
      yield {
        entity: item.entity as CountedEntity,
        sourceId: String(item.sourceId),
        ...(item.outcome ? { outcome: item.outcome as WriteOutcome } : {}),
        ...(item.clinikoId ? { clinikoId: String(item.clinikoId) } : {}),
        ...(item.reason ? { reason: String(item.reason) } : {}),
        ...(item.code ? { code: String(item.code) } : {}),
        ...(item.file ? { file: String(item.file) } : {}),
        ...(typeof item.row === 'number' ? { row: item.row } : {}),
        ...(item.field ? { field: String(item.field) } : {}),
        ...(item.lastError ? { lastError: String(item.lastError) } : {}),
        ...(item.at ? { at: String(item.at) } : {}),
      };
    }
  }

  async addRequests(runId: string, byStatus: Record<string, number>): Promise<void> {
    const entries = Object.entries(byStatus).filter(([, n]) => n > 0);
    if (!entries.length) return;
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: { pk: `RUN#${runId}`, sk: 'REQ' },
        UpdateExpression: `ADD ${entries.map((_, i) => `#s${i} :n${i}`).join(', ')}`,
        ExpressionAttributeNames: Object.fromEntries(entries.map(([s], i) => [`#s${i}`, `req_${s}`])),
        ExpressionAttributeValues: Object.fromEntries(entries.map(([, n], i) => [`:n${i}`, n])),
      }),
    );
  }

  async requests(runId: string): Promise<Record<string, number>> {
    const res = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `RUN#${runId}`, sk: 'REQ' }, ConsistentRead: true }),
    );
    return Object.fromEntries(
      Object.entries(res.Item ?? {})
        .filter(([k]) => k.startsWith('req_'))
        .map(([k, v]) => [k.slice(4), Number(v)]),
    );
  }

  private async *query(pk: string, prefix: string): AsyncIterable<Record<string, unknown>> {
    let start: Record<string, unknown> | undefined;
    do {
      const res = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
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

  private async batchWrite(requests: Record<string, unknown>[]): Promise<void> {
    for (let i = 0; i < requests.length; i += 25) {
      let pending: Record<string, unknown>[] | undefined = requests.slice(i, i + 25);
      for (let attempt = 0; pending?.length; attempt++) {
        const res = await this.doc.send(
          new BatchWriteCommand({ RequestItems: { [this.table]: pending as never } }),
        );
        pending = res.UnprocessedItems?.[this.table] as Record<string, unknown>[] | undefined;
        if (pending?.length) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
  }

  private async batchGet(
    keys: { pk: string; sk: string }[],
    consistent = false,
  ): Promise<Record<string, unknown>[]> {
    const out: Record<string, unknown>[] = [];
    const unique = [...new Map(keys.map((k) => [`${k.pk}|${k.sk}`, k])).values()];
    for (let i = 0; i < unique.length; i += 100) {
      let pending: Record<string, unknown>[] | undefined = unique.slice(i, i + 100);
      for (let attempt = 0; pending?.length; attempt++) {
        const res = await this.doc.send(
          new BatchGetCommand({
            RequestItems: { [this.table]: { Keys: pending, ConsistentRead: consistent } },
          }),
        );
        out.push(...(res.Responses?.[this.table] ?? []));
        pending = res.UnprocessedKeys?.[this.table]?.Keys as Record<string, unknown>[] | undefined;
        if (pending?.length) await new Promise((r) => setTimeout(r, Math.min(1000, 50 * 2 ** attempt)));
      }
    }
    return out;
  }
}

function idMapEntry(i: Record<string, unknown>): IdMapEntry {
  return {
    clinikoId: String(i.clinikoId),
    hash: String(i.hash ?? ''),
    runId: String(i.runId),
    at: String(i.at),
    steps: (i.steps as string[] | undefined) ?? [],
    ...(i.updatedIn ? { updatedIn: String(i.updatedIn) } : {}),
  };
}
