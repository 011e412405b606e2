import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  ReceiveMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';

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
}

export function lambdaContext(functionName: string): Context {
  const deadline = Date.now() + 60_000;
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: crypto.randomUUID(),
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export function startPoller(options: PollerOptions): { stop(): Promise<void> } {
  const sqs = new SQSClient({});
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
        const response = await options.handler(event, lambdaContext('Writer'));
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
  };
}
