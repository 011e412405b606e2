import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { parseAt } from '../../core/boundary.js';
import { type DryRunRegistry, type RequestCounter, RunInfo, type RunStore } from '../../ports/runs.js';
import type { StatusTable } from './status-table.js';

/** The RUN item as putRun and updateRunStatus leave it (keys, TTL and other attributes pass unread). */
const RunItem = z.object({
  run: RunInfo,
  status: z.string(),
  excluded: z.record(z.string(), z.number()).optional(),
});

/** A finished dry run of an export. */
const DryRunItem = z.object({ runId: z.string() });

/** Cliniko requests by HTTP status, counted in attributes `req_<status>`. */
const RequestCounts = z.record(z.string(), z.number());

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
      const stored = parseAt(`status table run item RUN#${runId}/RUN`, RunItem, item);
      return {
        ...stored.run,
        status: stored.status,
        ...(stored.excluded ? { excluded: stored.excluded } : {}),
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
      if (!item) return undefined;
      return parseAt(`status table dry-run item CLINIC#${clinicId}/DRYRUN#${sha256}`, DryRunItem, item).runId;
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
      const counted = Object.entries(item ?? {})
        .filter(([k]) => k.startsWith('req_'))
        .map(([k, v]) => [k.slice(4), v]);
      return parseAt(
        `status table requests item RUN#${runId}/REQ`,
        RequestCounts,
        Object.fromEntries(counted),
      );
    },
  };
}
