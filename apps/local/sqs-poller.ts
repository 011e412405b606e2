import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { utf8Bytes } from '../../src/core/aws-limits.js';
import { type FunctionLimits, InvocationFigures, withinTimeout } from './function-limits.js';

/**
 * The Lambda event source mapping for SQS, on one machine: workers receive batches, invoke the
 * handler with an SQSEvent, and delete what succeeded. A handler that throws leaves the whole
 * batch to come back after the visibility timeout; with ReportBatchItemFailures only the listed
 * messages come back (an unknown id fails the whole batch, as Lambda does). Redrive to the
 * dead-letter queue is the queue's own (maxReceiveCount).
 */
export interface PollerOptions {
  readonly queueUrl: string;
  readonly queueArn: string;
  readonly batchSize: number;
  readonly reportBatchItemFailures: boolean;
  readonly concurrency: number;
  readonly handler: (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;
  /** The queue's visibility timeout: messages being handled are kept invisible in steps of it. */
  readonly visibilityTimeoutSeconds: number;
  /** Called after each invocation with its duration (handler time is paid for). */
  readonly onInvoke?: (ms: number, records: number) => void;
  /**
   * The function's Timeout and MemorySize: an invocation still running at its timeout fails
   * (`Sandbox.Timedout`) and its whole batch comes back, as on AWS. Absent: 60 s.
   */
  readonly limits?: FunctionLimits;
  /** Its name in the figures and the Lambda context (default `Writer`). */
  readonly functionName?: string;
}

/** What a poller saw: the largest message and batch it received, its longest invocation. */
export interface PollerFigures {
  readonly largestMessageBytes: number;
  readonly largestBatchBytes: number;
  readonly largestBatchRecords: number;
  readonly longestInvocationMs: number;
}

/** A Lambda context whose remaining time and memory are the function's (60 s and 512 MB if not given). */
export function lambdaContext(functionName: string, limits?: FunctionLimits): Context {
  const deadline = Date.now() + (limits?.timeoutSeconds ?? 60) * 1000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: String(limits?.memoryMb ?? 512),
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function startPoller(options: PollerOptions): { stop(): Promise<void>; figures(): PollerFigures } {
  const sqs = new SQSClient({});
  const functionName = options.functionName ?? 'Writer';
  const limits = options.limits ?? { timeoutSeconds: 60, memoryMb: 512 };
  const invocations = new InvocationFigures();
  const seen = { largestMessageBytes: 0, largestBatchBytes: 0, largestBatchRecords: 0 };
  let running = true;
  const worker = async () => {
    while (running) {
      const res = await sqs
        .send(
          new ReceiveMessageCommand({
            QueueUrl: options.queueUrl,
            MaxNumberOfMessages: Math.min(10, options.batchSize),
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ['All'],
            MessageAttributeNames: ['All'],
          }),
        )
        .catch(() => ({ Messages: [] }));
      const messages = res.Messages ?? [];
      if (!messages.length || !running) continue;
      const sizes = messages.map((m) => utf8Bytes(String(m.Body ?? '')));
      seen.largestMessageBytes = Math.max(seen.largestMessageBytes, ...sizes);
      seen.largestBatchBytes = Math.max(
        seen.largestBatchBytes,
        sizes.reduce((n, s) => n + s, 0),
      );
      seen.largestBatchRecords = Math.max(seen.largestBatchRecords, messages.length);
      const event: SQSEvent = {
        Records: messages.map((m) => ({
          messageId: String(m.MessageId),
          receiptHandle: String(m.ReceiptHandle),
          body: String(m.Body),
          attributes: {
            ApproximateReceiveCount: m.Attributes?.ApproximateReceiveCount ?? '1',
            SentTimestamp: m.Attributes?.SentTimestamp ?? String(Date.now()),
            SenderId: 'local',
            ApproximateFirstReceiveTimestamp:
              m.Attributes?.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
          },
          messageAttributes: {},
          md5OfBody: String(m.MD5OfBody ?? ''),
          eventSource: 'aws:sqs',
          eventSourceARN: options.queueArn,
          awsRegion: 'us-east-1',
        })),
      };
      // On AWS a message stays invisible longer than an invocation can last (6× the timeout);
      // local queues use short timeouts so retries come back quickly, so in-flight messages are
      // kept invisible until their invocation ends.
      const heartbeat = setInterval(
        () => {
          sqs
            .send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: options.queueUrl,
                Entries: messages.map((m, i) => ({
                  Id: String(i),
                  ReceiptHandle: String(m.ReceiptHandle),
                  VisibilityTimeout: options.visibilityTimeoutSeconds,
                })),
              }),
            )
            .catch(() => undefined);
        },
        (options.visibilityTimeoutSeconds * 1000) / 3,
      );
      const started = performance.now();
      let failed: Set<string>;
      try {
        const response = await withinTimeout(
          functionName,
          limits,
          () => options.handler(event, lambdaContext(functionName, limits)),
          invocations,
        );
        const ids = (response?.batchItemFailures ?? []).map((f) => f.itemIdentifier);
        const known = new Set(event.Records.map((r) => r.messageId));
        // as Lambda does: an empty or unknown identifier fails the whole batch
        if (!options.reportBatchItemFailures) failed = new Set();
        else if (ids.some((id) => !id || !known.has(id))) failed = known;
        else failed = new Set(ids);
      } catch {
        failed = new Set(event.Records.map((r) => r.messageId));
      }
      clearInterval(heartbeat);
      options.onInvoke?.(performance.now() - started, messages.length);
      const done = messages.filter((m) => !failed.has(String(m.MessageId)));
      if (done.length) {
        await sqs
          .send(
            new DeleteMessageBatchCommand({
              QueueUrl: options.queueUrl,
              Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: String(m.ReceiptHandle) })),
            }),
          )
          .catch(() => undefined);
      }
    }
  };
  const workers = Array.from({ length: options.concurrency }, () => worker());
  return {
    stop: async () => {
      running = false;
      await Promise.all(workers);
    },
    figures: () => ({ ...seen, longestInvocationMs: invocations.longestMs()[functionName] ?? 0 }),
  };
}
