import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { z } from 'zod';
import { userBucketId } from '../../src/adapters/aws/cliniko-factory.js';
import { DynamoBucketStore } from '../../src/adapters/aws/dynamo-bucket-store.js';
import { dynamoStatusStore } from '../../src/adapters/aws/dynamo-status-store.js';
import { S3BlobStore } from '../../src/adapters/aws/s3-blob-store.js';
import { approvalMarkerKey } from '../../src/core/approval.js';
import { BoundaryError } from '../../src/core/boundary.js';
import { ENTITY_KEYS, EntityCountsSchema } from '../../src/core/entities.js';
import { keys } from '../../src/ports/bucket-keys.js';
import type { RunInfo } from '../../src/ports/runs.js';
import { type AwsTarget, clientConfig } from './aws-target.js';
import { deployedStack } from './deployed-stack.js';
import { ApprovalError, type LocalRunRecord } from './local-registry.js';

/** The part of a finished run's report.json that `status` shows. */
const ReportCounts = z.object({ entities: z.record(z.enum(ENTITY_KEYS), EntityCountsSchema) });

/** `status` and `approve` against a deployed stack: its status table and bucket. */
async function runOf(stackName: string, runId: string, aws: AwsTarget) {
  const stack = await deployedStack(stackName, aws);
  const dynamo = new DynamoDBClient(clientConfig(aws));
  const store = dynamoStatusStore(stack.table, dynamo);
  let run: RunInfo;
  try {
    run = await store.getRun(runId);
  } catch (err) {
    // A run item that does not fit its schema is a fault to show, not a missing run.
    if (err instanceof BoundaryError) throw err;
    throw new ApprovalError(`no run ${runId} in stack ${stackName}`);
  }
  return { stack, store, dynamo, run };
}

const FINISHED = new Set(['succeeded', 'finished-with-failures']);

export async function approveDeployed(
  stackName: string,
  runId: string,
  by: string,
  aws: AwsTarget,
): Promise<{ bucket: string; key: string }> {
  const { stack, run } = await runOf(stackName, runId, aws);
  if (run.mode !== 'dry-run')
    throw new ApprovalError(`run ${runId} is a live run; only a dry run is approved`);
  if (!FINISHED.has(run.status ?? ''))
    throw new ApprovalError(
      `dry run ${runId} is ${run.status ?? 'not finished'}; approve it once it has finished`,
    );
  const key = approvalMarkerKey(run.exportKey);
  await new S3BlobStore(new S3Client(clientConfig(aws))).putJson(stack.bucket, key, {
    runId,
    sha256: run.sha256,
    approvedBy: by,
    approvedAt: new Date().toISOString(),
  });
  return { bucket: stack.bucket, key };
}

export async function deployedStatus(
  stackName: string,
  runId: string,
  aws: AwsTarget,
): Promise<LocalRunRecord> {
  const { stack, store, dynamo, run } = await runOf(stackName, runId, aws);
  const state = FINISHED.has(run.status ?? '')
    ? (run.status as 'succeeded' | 'finished-with-failures')
    : run.status === 'failed'
      ? 'failed'
      : 'running';
  const base = {
    runId,
    mode: run.mode,
    exportFile: run.exportFile,
    sha256: run.sha256,
    state,
    startedAt: run.startedAt,
    updatedAt: new Date().toISOString(),
    ...(run.account ? { account: run.account } : {}),
  } as const;
  if (state !== 'running') {
    const report = await new S3BlobStore(new S3Client(clientConfig(aws))).getJson(
      stack.bucket,
      keys.report(run.clinicId, runId, 'report.json'),
      ReportCounts,
    );
    return {
      ...base,
      ...(report ? { entities: report.entities } : {}),
      reportDir: `s3://${stack.bucket}/${keys.report(run.clinicId, runId, '')}`,
    };
  }
  // The writers' buckets are per Cliniko user, shared by every run of the account: a wait on them
  // holds this run back whichever run's request met it.
  const [batches, totals, waiting] = await Promise.all([
    store.listBatchCounts(runId),
    store.writeTotals(runId),
    new DynamoBucketStore(stack.table, dynamo).waiting(
      run.clinikoUsers.map((user) => userBucketId(run.account.shard, user)),
    ),
  ]);
  const progress: Record<string, { enqueued: number; finished: number }> = {};
  for (const b of batches) {
    const e = progress[b.counts.entity] ?? { enqueued: 0, finished: 0 };
    e.enqueued += b.counts.enqueued;
    progress[b.counts.entity] = e;
  }
  for (const [entity, t] of Object.entries(totals)) {
    const e = progress[entity] ?? { enqueued: 0, finished: 0 };
    e.finished += (t?.created ?? 0) + (t?.alreadyPresent ?? 0) + (t?.updated ?? 0) + (t?.failed ?? 0);
    progress[entity] = e;
  }
  return { ...base, phase: run.status ?? '', progress, ...(waiting ? { waiting } : {}) };
}
