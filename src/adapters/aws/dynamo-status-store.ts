import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { StatusStore } from '../../ports/status-store.js';
import { dynamoIdMap } from './dynamo-id-map.js';
import { dynamoOutcomes } from './dynamo-outcomes.js';
import { dynamoRuns } from './dynamo-runs.js';
import { dynamoWriteLedger } from './dynamo-write-ledger.js';
import { StatusTable } from './status-table.js';

/**
 * Every status-table port over one DynamoDB table (see status-table.ts for its item families).
 * `retentionDays`: how long runs, outcomes and the id map are kept (DynamoDB TTL), 7 years by default.
 */
export function dynamoStatusStore(
  tableName: string,
  client?: DynamoDBClient,
  retentionDays?: number,
): StatusStore {
  const table = new StatusTable(tableName, client, retentionDays);
  return {
    ...dynamoRuns(table),
    ...dynamoOutcomes(table),
    ...dynamoIdMap(table),
    ...dynamoWriteLedger(table),
  };
}
