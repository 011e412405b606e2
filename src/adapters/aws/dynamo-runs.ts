import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DryRunRegistry, RequestCounter, RunInfo, RunStore } from '../../ports/runs.js';
import type { StatusTable } from './status-table.js';

/** The runs ports on the status table: items `RUN#<run>/RUN`, `RUN#<run>/REQ`, `CLINIC#<c>/DRYRUN#<sha256>`. */
export function dynamoRuns(table: StatusTable): RunStore & DryRunRegistry & RequestCounter {
  return {
    async putRun(run: RunInfo): Promise<void> {
      await table.doc.send(
        new PutCommand({
          TableName: table.name,
          Item: {
            pk: `RUN#${run.runId}`,
            sk: 'RUN',
            run,
            status: 'preflight-passed',
            clinicId: run.clinicId,
            expiresAt: table.expiresAt(),
          },
        }),
      );
    },

    async getRun(runId: string): Promise<RunInfo> {
      const item = await table.get(`RUN#${runId}`, 'RUN');
      if (!item) throw new Error(`run ${runId} is not in the status table`);
      return {
        ...(item.run as RunInfo),
        status: item.status as string,
        ...(item.excluded ? { excluded: item.excluded as Record<string, number> } : {}),
      };
    },

    async updateRunStatus(runId: string, status: string, extra: Record<string, unknown> = {}): Promise<void> {
      const names: Record<string, string> = { '#status': 'status' };
      const values: Record<string, unknown> = { ':status': status };
      const sets = ['#status = :status'];
      for (const [i, [k, v]] of Object.entries(extra).entries()) {
        names[`#k${i}`] = k;
        values[`:v${i}`] = v;
        sets.push(`#k${i} = :v${i}`);
      }
      await table.doc.send(
        new UpdateCommand({
          TableName: table.name,
          Key: { pk: `RUN#${runId}`, sk: 'RUN' },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    },

    async recordDryRun(clinicId: string, sha256: string, runId: string): Promise<void> {
      await table.doc.send(
        new PutCommand({
          TableName: table.name,
          Item: {
            pk: `CLINIC#${clinicId}`,
            sk: `DRYRUN#${sha256}`,
            runId,
            sha256,
            expiresAt: table.expiresAt(),
          },
        }),
      );
    },

    async dryRunFor(clinicId: string, sha256: string): Promise<string | undefined> {
      const item = await table.get(`CLINIC#${clinicId}`, `DRYRUN#${sha256}`);
      return item?.runId === undefined ? undefined : String(item.runId);
    },

    async addRequests(runId: string, byStatus: Record<string, number>): Promise<void> {
      const entries = Object.entries(byStatus).filter(([, n]) => n > 0);
      if (!entries.length) return;
      await table.doc.send(
        new UpdateCommand({
          TableName: table.name,
          Key: { pk: `RUN#${runId}`, sk: 'REQ' },
          UpdateExpression: `ADD ${entries.map((_, i) => `#s${i} :n${i}`).join(', ')}`,
          ExpressionAttributeNames: Object.fromEntries(entries.map(([s], i) => [`#s${i}`, `req_${s}`])),
          ExpressionAttributeValues: Object.fromEntries(entries.map(([, n], i) => [`:n${i}`, n])),
        }),
      );
    },

    async requests(runId: string): Promise<Record<string, number>> {
      const item = await table.get(`RUN#${runId}`, 'REQ');
      return Object.fromEntries(
        Object.entries(item ?? {})
          .filter(([k]) => k.startsWith('req_'))
          .map(([k, v]) => [k.slice(4), Number(v)]),
      );
    },
  };
}
