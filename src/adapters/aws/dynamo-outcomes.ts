import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { parseAt } from '../../core/boundary.js';
import { BatchCounts, BatchEvidence, type OutcomeStore, RecordOutcome } from '../../ports/outcomes.js';
import type { StatusTable } from './status-table.js';

/** The BATCH item: a batch's counts and evidence (keys and TTL pass unread). */
const BatchItem = z.object({ sk: z.string(), counts: BatchCounts, evidence: BatchEvidence.optional() });

const outcomeAt = (runId: string) => `status table outcome item RUN#${runId}/REC#`;

/** The outcomes port on the status table: items `RUN#<run>/BATCH#<batch>` and `RUN#<run>/REC#<entity>#<id>`. */
export function dynamoOutcomes(table: StatusTable): OutcomeStore {
  return {
    async putBatchCounts(runId, batchKey, counts, evidence): Promise<void> {
      await table.doc.send(
        new PutCommand({
          TableName: table.name,
          Item: {
            pk: `RUN#${runId}`,
            sk: `BATCH#${batchKey}`,
            counts,
            ...(evidence ? { evidence } : {}),
            expiresAt: table.expiresAt(),
          },
        }),
      );
    },

    async listBatchCounts(runId) {
      const out: { batchKey: string; counts: BatchCounts; evidence?: BatchEvidence }[] = [];
      for await (const item of table.query(`RUN#${runId}`, 'BATCH#')) {
        const batch = parseAt(`status table batch item RUN#${runId}/BATCH#`, BatchItem, item);
        out.push({
          batchKey: batch.sk.slice(6),
          counts: batch.counts,
          ...(batch.evidence ? { evidence: batch.evidence } : {}),
        });
      }
      return out;
    },

    async putOutcomes(runId, outcomes): Promise<void> {
      await table.batchWrite(
        outcomes.map((o) => ({
          PutRequest: {
            Item: {
              pk: `RUN#${runId}`,
              sk: `REC#${o.entity}#${o.sourceId}`,
              ...o,
              expiresAt: table.expiresAt(),
            },
          },
        })),
      );
    },

    async getOutcomes(runId, entity, sourceIds) {
      const items = await table.batchGet(
        sourceIds.map((id) => ({ pk: `RUN#${runId}`, sk: `REC#${entity}#${id}` })),
      );
      return new Map(
        items.map((i) => {
          const outcome = parseAt(outcomeAt(runId), RecordOutcome, i);
          return [outcome.sourceId, outcome];
        }),
      );
    },

    async *listOutcomes(runId, entity) {
      for await (const item of table.query(`RUN#${runId}`, entity ? `REC#${entity}#` : 'REC#'))
        yield parseAt(outcomeAt(runId), RecordOutcome, item);
    },
  };
}
