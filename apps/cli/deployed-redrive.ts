import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SQSClient } from '@aws-sdk/client-sqs';
import { writeReport } from '../../lambdas/report/report.js';
import { dynamoStatusStore } from '../../src/adapters/aws/dynamo-status-store.js';
import { S3BlobStore } from '../../src/adapters/aws/s3-blob-store.js';
import { SqsCommandQueue } from '../../src/adapters/aws/sqs-command-queue.js';
import { type DeadLetter, resend, takeDeadLetters } from '../../src/adapters/aws/sqs-redrive.js';
import { parseWriteMessage } from '../../src/mapping/write-payload.js';
import { loadProfile } from '../../src/source/profile.js';
import { type AwsTarget, clientConfig } from './aws-target.js';
import { deployedStatus } from './deployed-runs.js';
import { deployedStack } from './deployed-stack.js';
import { UsageError } from './errors.js';
import type { LocalRunRecord } from './local-registry.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `redrive --stack`: takes the run's messages out of the stack's dead-letter queue and sends them
 * back to the write queue (marked to re-find their record first), waits until each redriven
 * record has a write outcome in the status table (or `waitMs` passes), then makes the run's report
 * again from the status table (the same code as the Report step) so report.json and `status`
 * count them. Returns the run's status and how many redriven records are still unwritten.
 */
export async function redriveDeployed(
  stackName: string,
  runId: string,
  aws: AwsTarget,
  options: { readonly waitMs: number; readonly out: (line: string) => void; readonly pollMs?: number },
): Promise<{ record: LocalRunRecord; left: number }> {
  const stack = await deployedStack(stackName, aws);
  if (!stack.writeQueueUrl || !stack.deadLetterQueueUrl)
    throw new UsageError(
      `--stack ${stackName}: the stack has no WriteQueueUrl and DeadLetterQueueUrl outputs (deploy this version first)`,
    );
  const store = dynamoStatusStore(stack.table, new DynamoDBClient(clientConfig(aws)));
  const blobs = new S3BlobStore(
    new S3Client({ ...clientConfig(aws), forcePathStyle: process.env.S3_FORCE_PATH_STYLE === 'true' }),
  );
  const sqs = new SQSClient(clientConfig(aws));
  const queue = new SqsCommandQueue(stack.writeQueueUrl, sqs, { bucket: stack.bucket, blobs });
  const run = await store.getRun(runId);
  const pending = new Set<string>();
  const moved = await takeDeadLetters(
    sqs,
    stack.deadLetterQueueUrl,
    runId,
    async (letters: readonly DeadLetter[]) => {
      for (const l of letters) {
        const cmd = parseWriteMessage(await queue.bodyOf(l.body));
        pending.add(`${cmd.entity}#${cmd.sourceId}`);
      }
      await resend(sqs, stack.writeQueueUrl ?? '', letters);
    },
  );
  if (!moved) options.out(`Run ${runId} has no dead-lettered commands in ${stackName}: nothing to redrive.`);
  else options.out(`Redriving ${moved} dead-lettered commands of run ${runId}; waiting for the writers…`);
  const until = Date.now() + options.waitMs;
  while (pending.size && Date.now() < until) {
    await sleep(options.pollMs ?? 5_000);
    for await (const w of store.listWrites(runId))
      if (w.outcome !== undefined) pending.delete(`${w.entity}#${w.sourceId}`);
  }
  if (moved) {
    if (pending.size)
      options.out(`${pending.size} not written yet: the report is made again with what is written so far.`);
    await writeReport(
      { runId, clinicId: run.clinicId, bucket: stack.bucket },
      { store, blobs, now: () => new Date(), profile: loadProfile('gensolve') },
    );
  }
  sqs.destroy();
  return { record: await deployedStatus(stackName, runId, aws), left: pending.size };
}
