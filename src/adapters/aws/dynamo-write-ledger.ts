import { createHash } from 'node:crypto';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { parseAt } from '../../core/boundary.js';
import { CountedEntity } from '../../core/entities.js';
import {
  LedgerEntry,
  WRITE_OUTCOMES,
  type WriteLedger,
  WriteOutcome,
  type WriteTotals,
} from '../../ports/write-ledger.js';
import type { StatusTable } from './status-table.js';

/**
 * An OUT item: recordWrite sets every attribute, null where the result has none (an update
 * expression cannot leave one out), so nulls read back as absent.
 */
const OutItem = z.preprocess(
  (item) =>
    item && typeof item === 'object'
      ? Object.fromEntries(Object.entries(item).filter(([, v]) => v !== null))
      : item,
  LedgerEntry,
);

/**
 * A DONE item: one shard's counters of an entity, by outcome (absent until first counted). Its
 * size is fixed: it holds counters only, never the ids it counted (an `ids` set left by an older
 * version is ignored).
 */
const DoneItem = z.object({
  entity: CountedEntity,
  created: z.number().default(0),
  alreadyPresent: z.number().default(0),
  updated: z.number().default(0),
  failed: z.number().default(0),
});

/** What settleWriteTotals reads of an OUT item: the outcome it was counted as (absent: not yet). */
const CountedItem = z.object({
  entity: CountedEntity,
  counted: WriteOutcome.optional(),
  outcome: WriteOutcome.optional(),
});

/** Counter items per entity: spreads a busy run's counting over partitions. */
const SHARDS = 32;

function shardOf(sourceId: string): number {
  return Number.parseInt(createHash('md5').update(sourceId).digest('hex').slice(0, 6), 16) % SHARDS;
}

/**
 * The write ledger on the status table: items `RUN#<run>/OUT#<entity>#<id>` (a record's result,
 * or its last error while retried; its `counted` attribute is the record's count marker) and
 * `RUN#<run>/DONE#<entity>#<shard>` (counters). Every item keeps a fixed size whatever the run's
 * size, so a record costs the same write units in a run of ten records or of millions.
 *
 * Counted once without a growing set: the OUT update sets `counted` only where it is absent and
 * returns the value it replaced, so of every report of a record (redelivery, concurrent writers)
 * exactly one sees it new, and only that one adds to a counter. DynamoDB's single-item updates are
 * atomic, so this holds under any concurrency. A writer stopped between the two updates (a
 * timeout, a crash) leaves a record marked but not added: the counters are then short, never
 * over, and settleWriteTotals counts the marks themselves.
 */
export function dynamoWriteLedger(table: StatusTable): WriteLedger {
  return {
    async recordWrite(runId, result): Promise<void> {
      const marked = await table.doc.send(
        new UpdateCommand({
          TableName: table.name,
          Key: { pk: `RUN#${runId}`, sk: `OUT#${result.entity}#${result.sourceId}` },
          UpdateExpression:
            'SET entity = :e, sourceId = :s, outcome = :o, clinikoId = :c, reason = :r, code = :code, #file = :file, #row = :row, field = :field, #at = if_not_exists(#at, :at), expiresAt = :x, counted = if_not_exists(counted, :o)',
          ExpressionAttributeNames: { '#at': 'at', '#file': 'file', '#row': 'row' },
          // the old `counted` comes back only when the record had been counted before
          ReturnValues: 'UPDATED_OLD',
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
      if (marked.Attributes?.counted !== undefined) return;
      await table.doc.send(
        new UpdateCommand({
          TableName: table.name,
          Key: { pk: `RUN#${runId}`, sk: `DONE#${result.entity}#${shardOf(result.sourceId)}` },
          UpdateExpression: 'ADD #outcome :one SET entity = :e, expiresAt = :x',
          ExpressionAttributeNames: { '#outcome': result.outcome },
          ExpressionAttributeValues: { ':one': 1, ':e': result.entity, ':x': table.expiresAt() },
        }),
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
        const done = parseAt(`status table write counter item RUN#${runId}/DONE#`, DoneItem, item);
        const t = totals[done.entity] ?? { created: 0, alreadyPresent: 0, updated: 0, failed: 0 };
        totals[done.entity] = t;
        for (const k of WRITE_OUTCOMES) t[k] += done[k];
      }
      return totals;
    },

    async settleWriteTotals(runId) {
      const totals: WriteTotals = {};
      for await (const item of table.query(`RUN#${runId}`, 'OUT#')) {
        const out = parseAt(`status table write result item RUN#${runId}/OUT#`, CountedItem, item);
        // an item an older version counted in its DONE sets has an outcome and no mark
        const counted = out.counted ?? out.outcome;
        if (!counted) continue;
        const t = totals[out.entity] ?? { created: 0, alreadyPresent: 0, updated: 0, failed: 0 };
        totals[out.entity] = t;
        t[counted]++;
      }
      return totals;
    },

    async *listWrites(runId) {
      for await (const item of table.query(`RUN#${runId}`, 'OUT#'))
        yield parseAt(`status table write result item RUN#${runId}/OUT#`, OutItem, item);
    },
  };
}
