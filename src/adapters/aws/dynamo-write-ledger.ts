import { createHash } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { CountedEntity } from '../../core/entities.js';
import type { WriteLedger, WriteOutcome, WriteTotals } from '../../ports/write-ledger.js';
import { ifCondition, type StatusTable } from './status-table.js';

/** Counter items per entity: spreads a busy run's counting over partitions. */
const SHARDS = 32;

function shardOf(sourceId: string): number {
  return Number.parseInt(createHash('md5').update(sourceId).digest('hex').slice(0, 6), 16) % SHARDS;
}

/**
 * The write ledger on the status table: items `RUN#<run>/OUT#<entity>#<id>` (a record's result,
 * or its last error while retried) and `RUN#<run>/DONE#<entity>#<shard>` (counters whose set of
 * counted ids makes every record count once).
 */
export function dynamoWriteLedger(table: StatusTable): WriteLedger {
  return {
    async recordWrite(runId, result): Promise<void> {
      await table.doc.send(
        new UpdateCommand({
          TableName: table.name,
          Key: { pk: `RUN#${runId}`, sk: `OUT#${result.entity}#${result.sourceId}` },
          UpdateExpression:
            'SET entity = :e, sourceId = :s, outcome = :o, clinikoId = :c, reason = :r, code = :code, #file = :file, #row = :row, field = :field, #at = if_not_exists(#at, :at), expiresAt = :x',
          ExpressionAttributeNames: { '#at': 'at', '#file': 'file', '#row': 'row' },
          ExpressionAttributeValues: {
            ':at': new Date().toISOString(),
            ':x': table.expiresAt(),
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
      // Counted once: the id joins the shard's set in the same update that adds to the counter.
      await ifCondition(() =>
        table.doc.send(
          new UpdateCommand({
            TableName: table.name,
            Key: { pk: `RUN#${runId}`, sk: `DONE#${result.entity}#${shardOf(result.sourceId)}` },
            UpdateExpression: 'ADD #ids :id, #outcome :one SET entity = :e, expiresAt = :x',
            ConditionExpression: 'attribute_not_exists(#ids) OR NOT contains(#ids, :sid)',
            ExpressionAttributeNames: { '#ids': 'ids', '#outcome': result.outcome },
            ExpressionAttributeValues: {
              ':id': new Set([result.sourceId]),
              ':sid': result.sourceId,
              ':one': 1,
              ':e': result.entity,
              ':x': table.expiresAt(),
            },
          }),
        ),
      );
    },

    async noteAttempt(runId, entity, sourceId, reason): Promise<void> {
      await table.doc.send(
        new UpdateCommand({
          TableName: table.name,
          Key: { pk: `RUN#${runId}`, sk: `OUT#${entity}#${sourceId}` },
          UpdateExpression:
            'SET entity = :e, sourceId = :s, lastError = :r, expiresAt = :x ADD attempts :one',
          ExpressionAttributeValues: {
            ':e': entity,
            ':s': sourceId,
            ':r': reason.slice(0, 500),
            ':one': 1,
            ':x': table.expiresAt(),
          },
        }),
      );
    },

    async writeTotals(runId) {
      const totals: WriteTotals = {};
      for await (const item of table.query(`RUN#${runId}`, 'DONE#')) {
        const entity = item.entity as CountedEntity;
        const t = totals[entity] ?? { created: 0, alreadyPresent: 0, updated: 0, failed: 0 };
        totals[entity] = t;
        for (const k of ['created', 'alreadyPresent', 'updated', 'failed'] as const)
          t[k] += Number(item[k] ?? 0);
      }
      return totals;
    },

    async *listWrites(runId) {
      for await (const item of table.query(`RUN#${runId}`, 'OUT#')) {
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
    },
  };
}
