import { DeleteCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { parseAt } from '../../core/boundary.js';
import { type Claims, type Findings, type IdMap, IdMapEntry } from '../../ports/id-map.js';
import { ifCondition, type StatusTable } from './status-table.js';

/** An ID item holding a written record (an item holding only a claim has no clinikoId). */
const IdMapItem = z.intersection(z.object({ sourceId: z.string() }), IdMapEntry);

/** Where a page of the id map carries on: the key DynamoDB returned as LastEvaluatedKey. */
const StartKey = z.object({ pk: z.string(), sk: z.string() });

/** A FOUND item: what a run's reconciliation found under a natural key. */
const FoundItem = z.object({ clinikoId: z.string(), runId: z.string() });

/**
 * The id map, claims and findings on the status table: items `CLINIC#<scope>/ID#<entity>#<id>`
 * (the Cliniko id, hash and steps done, or only a claim while a writer creates the record) and
 * `CLINIC#<scope>/FOUND#<resource>#<key>` (what reconciliation found, kept a day).
 */
export function dynamoIdMap(table: StatusTable): IdMap & Claims & Findings {
  const idKey = (scope: string, entity: string, sourceId: string) => ({
    pk: `CLINIC#${scope}`,
    sk: `ID#${entity}#${sourceId}`,
  });
  return {
    async getIdMap(scope, entity, sourceIds) {
      const items = await table.batchGet(
        sourceIds.map((id) => idKey(scope, entity, id)),
        true,
      );
      // An item holding only a claim is not a written record.
      const written = items.filter((i) => i.clinikoId).map((i) => idMapItem(scope, i));
      return new Map(written.map((i) => [i.sourceId, i.entry]));
    },

    async *listIdMap(scope, entity) {
      for await (const i of table.query(`CLINIC#${scope}`, `ID#${entity}#`))
        if (i.clinikoId) yield idMapItem(scope, i);
    },

    async listIdMapPage(scope, entity, page) {
      const start = page.cursor
        ? parseAt(
            `id map cursor of CLINIC#${scope}/ID#${entity}#`,
            StartKey,
            JSON.parse(Buffer.from(page.cursor, 'base64url').toString('utf8')),
          )
        : undefined;
      const res = await table.doc.send(
        new QueryCommand({
          TableName: table.name,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `CLINIC#${scope}`, ':prefix': `ID#${entity}#` },
          ExclusiveStartKey: start,
          Limit: page.limit,
          ConsistentRead: true,
        }),
      );
      const records = (res.Items ?? []).filter((i) => i.clinikoId).map((i) => idMapItem(scope, i));
      const next = res.LastEvaluatedKey
        ? Buffer.from(JSON.stringify(res.LastEvaluatedKey)).toString('base64url')
        : undefined;
      return next ? { records, cursor: next } : { records };
    },

    async putIdMap(scope, entity, sourceId, entry): Promise<void> {
      await table.doc.send(
        new PutCommand({
          TableName: table.name,
          Item: {
            ...idKey(scope, entity, sourceId),
            sourceId,
            entity,
            ...entry,
            steps: [...entry.steps],
            expiresAt: table.expiresAt(),
          },
        }),
      );
    },

    async addIdMapStep(scope, entity, sourceId, step): Promise<void> {
      await table.doc.send(
        new UpdateCommand({
          TableName: table.name,
          Key: idKey(scope, entity, sourceId),
          UpdateExpression: 'SET #steps = list_append(if_not_exists(#steps, :empty), :step)',
          ExpressionAttributeNames: { '#steps': 'steps' },
          ExpressionAttributeValues: { ':step': [step], ':empty': [] },
        }),
      );
    },

    async deleteIdMap(scope, entity, sourceId): Promise<void> {
      await table.doc.send(new DeleteCommand({ TableName: table.name, Key: idKey(scope, entity, sourceId) }));
    },

    async claim(scope, entity, sourceId, owner, ttlMs, now) {
      const key = idKey(scope, entity, sourceId);
      let expired = false;
      const claimed = await ifCondition(async () => {
        const res = await table.doc.send(
          new UpdateCommand({
            TableName: table.name,
            Key: key,
            UpdateExpression: 'SET claimOwner = :owner, claimUntil = :until',
            ConditionExpression:
              'attribute_not_exists(clinikoId) AND (attribute_not_exists(claimUntil) OR claimUntil < :now)',
            ExpressionAttributeValues: { ':owner': owner, ':until': now + ttlMs, ':now': now },
            ReturnValues: 'UPDATED_OLD',
          }),
        );
        expired = res.Attributes?.claimUntil !== undefined;
      });
      if (claimed) return expired ? 'taken-over' : 'claimed';
      return (await table.get(key.pk, key.sk))?.clinikoId ? 'done' : 'busy';
    },

    async releaseClaim(scope, entity, sourceId, owner): Promise<void> {
      // Another owner's claim (or none) stays as it is.
      await ifCondition(() =>
        table.doc.send(
          new UpdateCommand({
            TableName: table.name,
            Key: idKey(scope, entity, sourceId),
            UpdateExpression: 'REMOVE claimOwner, claimUntil',
            ConditionExpression: 'claimOwner = :owner',
            ExpressionAttributeValues: { ':owner': owner },
          }),
        ),
      );
    },

    async putFound(scope, resource, runId, found): Promise<void> {
      // Kept a day: only the run that found them reads them.
      const expiresAt = Math.floor(Date.now() / 1000) + 86_400;
      await table.batchWrite(
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
    },

    async getFound(scope, resource, runId, key) {
      return foundFor(scope, resource, runId, await table.get(`CLINIC#${scope}`, `FOUND#${resource}#${key}`));
    },

    async getFoundMany(scope, resource, runId, keys) {
      // BatchGetItem, 100 keys a call, unprocessed keys retried with backoff (StatusTable.batchGet);
      // read consistently, as getFound reads, so both answer alike
      const prefix = `FOUND#${resource}#`;
      const items = await table.batchGet(
        keys.map((key) => ({ pk: `CLINIC#${scope}`, sk: `${prefix}${key}` })),
        true,
      );
      const found = new Map<string, string>();
      for (const item of items) {
        const id = foundFor(scope, resource, runId, item);
        const sk = item.sk;
        if (id && typeof sk === 'string' && sk.startsWith(prefix)) found.set(sk.slice(prefix.length), id);
      }
      return found;
    },

    async lookupRecord(scope, entity, sourceId, finding) {
      const id = idKey(scope, entity, sourceId);
      const found = finding && { pk: `CLINIC#${scope}`, sk: `FOUND#${finding.resource}#${finding.key}` };
      const items = await table.batchGet(found ? [id, found] : [id], true);
      const item = (sk: string) => items.find((i) => i.sk === sk);
      const written = item(id.sk);
      return {
        // An item holding only a claim is not a written record.
        ...(written?.clinikoId ? { written: idMapItem(scope, written).entry } : {}),
        ...(finding && found
          ? { found: foundFor(scope, finding.resource, finding.runId, item(found.sk)) }
          : {}),
      };
    },
  };
}

/** A FOUND item's Cliniko id when the item is this run's finding. */
function foundFor(
  scope: string,
  resource: string,
  runId: string,
  item: Record<string, unknown> | undefined,
): string | undefined {
  if (!item) return undefined;
  const found = parseAt(`status table found item CLINIC#${scope}/FOUND#${resource}#`, FoundItem, item);
  return found.runId === runId ? found.clinikoId : undefined;
}

/** Parses an ID item into the port's record; the message names the scope, never the source id. */
function idMapItem(scope: string, item: Record<string, unknown>): { sourceId: string; entry: IdMapEntry } {
  const { sourceId, ...entry } = parseAt(`status table id map item CLINIC#${scope}/ID#`, IdMapItem, item);
  return { sourceId, entry };
}
