import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import {
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { resend } from '../../src/adapters/aws/sqs-redrive.js';
import { keys } from '../../src/ports/bucket-keys.js';
import type { RunReport } from '../../src/report/run-report.js';
import type { Handler, LocalRunResult } from './run-local-types.js';
import { lambdaContext } from './sqs-poller.js';

/**
 * The local half of `redrive`: on one machine the queues live only as long as a run, so a run's
 * dead-lettered commands are kept in its state folder ({@link drainDeadLetters}) and a redrive
 * sends them to the write queue of a fresh local pipeline over the same status table; once the
 * writers have taken every message, Report is made again from the status table (the redriven
 * records now counted as written) and its files replace the run's.
 */
export interface LocalRedrive {
  readonly runId: string;
  /** The dead-lettered message bodies as the run left them. */
  readonly bodies: readonly string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Every message of a dead-letter queue, taken out of it (the queue dies with the local run). */
export async function drainDeadLetters(deadLetterQueueUrl: string): Promise<string[]> {
  const sqs = new SQSClient({});
  const bodies: string[] = [];
  try {
    for (;;) {
      const res = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 60,
        }),
      );
      const messages = res.Messages ?? [];
      if (!messages.length) return bodies;
      bodies.push(...messages.map((m) => String(m.Body ?? '')));
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: deadLetterQueueUrl,
          Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: String(m.ReceiptHandle) })),
        }),
      );
    }
  } finally {
    sqs.destroy();
  }
}

async function depth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const res = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  const a = res.Attributes ?? {};
  return (
    Number(a.ApproximateNumberOfMessages ?? 0) +
    Number(a.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(a.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/**
 * Sends `redrive.bodies` to the write queue, waits until the writers have taken them all (each
 * written, or dead-lettered again), makes the run's report again with the Report handler and
 * writes its files under `dir`. Returns the run's result, `deadLetterBodies` what is left.
 */
export async function redriveLocal(ctx: {
  readonly redrive: LocalRedrive;
  readonly clinicId: string;
  readonly bucket: string;
  readonly writeQueueUrl: string;
  readonly deadLetterQueueUrl: string;
  readonly report: Handler;
  readonly s3: S3Client;
  readonly dir: string;
  readonly stopWriters: () => Promise<void>;
}): Promise<LocalRunResult & { readonly deadLetterBodies: string[] }> {
  const { runId } = ctx.redrive;
  const sqs = new SQSClient({});
  try {
    await resend(
      sqs,
      ctx.writeQueueUrl,
      ctx.redrive.bodies.map((body) => ({ body, clinicId: ctx.clinicId })),
    );
    // the queue's depth settles at zero for a few looks once the writers are done
    for (let quiet = 0; quiet < 3; ) {
      await sleep(500);
      quiet = (await depth(sqs, ctx.writeQueueUrl)) === 0 ? quiet + 1 : 0;
    }
    await ctx.stopWriters();
    await ctx.report({ runId, clinicId: ctx.clinicId, bucket: ctx.bucket }, lambdaContext('Report'));
    await mkdir(ctx.dir, { recursive: true });
    const fetch = async (file: string) => {
      const res = await ctx.s3.send(
        new GetObjectCommand({ Bucket: ctx.bucket, Key: keys.report(ctx.clinicId, runId, file) }),
      );
      return (res.Body as { transformToString(): Promise<string> }).transformToString();
    };
    const files = {
      json: join(ctx.dir, 'report.json'),
      csv: join(ctx.dir, 'problems.csv'),
      html: join(ctx.dir, 'report.html'),
    };
    const reportText = await fetch('report.json');
    await writeFile(files.json, reportText);
    await writeFile(files.csv, await fetch('problems.csv'));
    await writeFile(files.html, await fetch('report.html'));
    const audit = await fetch('audit.csv').catch(() => undefined);
    if (audit !== undefined) await writeFile(join(ctx.dir, 'audit.csv'), audit);
    const left = await drainDeadLetters(ctx.deadLetterQueueUrl);
    return {
      runId,
      report: JSON.parse(reportText) as RunReport,
      files,
      deadLetters: left.length,
      deadLetterBodies: left,
      // a redrive runs no execution of the state machine
      executions: [],
    };
  } finally {
    sqs.destroy();
  }
}
