import { PutCommand } from '@aws-sdk/lib-dynamodb';
import type { BatchCounts, BatchEvidence, OutcomeStore, RecordOutcome } from '../../ports/outcomes.js';
import type { StatusTable } from './status-table.js';

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
        out.push({
          batchKey: String(item.sk).slice(6),
          counts: item.counts as BatchCounts,
          ...(item.evidence ? { evidence: item.evidence as BatchEvidence } : {}),
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
      return new Map(items.map((i) => [String(i.sourceId), i as unknown as RecordOutcome]));
    },

    async *listOutcomes(runId, entity) {
      for await (const item of table.query(`RUN#${runId}`, entity ? `REC#${entity}#` : 'REC#'))
        yield item as unknown as RecordOutcome;
    },
  };
}
