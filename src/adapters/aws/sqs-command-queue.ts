import { createHash } from 'node:crypto';
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { z } from 'zod';
import { SQS_LIMITS, utf8Bytes } from '../../core/aws-limits.js';
import { parseAt } from '../../core/boundary.js';
import type { BlobStore } from '../../ports/blobs.js';
import { keys } from '../../ports/bucket-keys.js';
import type { CommandQueue, WriteCommand } from '../../ports/command-queue.js';

/**
 * A command as an SQS message body. SQS accepts only #x9, #xA, #xD, #x20–#xD7FF, #xE000–#xFFFD and
 * #x10000–#x10FFFF in a body (and some emulators not even the last range), while a clinic's text
 * can hold anything: emoji, control characters, NUL. So everything outside printable ASCII is
 * written as a JSON `\uXXXX` escape; `JSON.parse` gives back exactly the same text.
 */
export function messageBody(command: WriteCommand): string {
  return JSON.stringify(command).replace(
    /[^\x20-\x7e]/g,
    (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/**
 * A command too long for one SQS message, kept in the run's bucket: the message carries only where
 * it is, and the writer reads it back ({@link SqsCommandQueue.bodyOf}).
 */
const SpilledBody = z.object({
  spilledBody: z.object({ bucket: z.string().min(1), key: z.string().min(1) }),
  /** Set by a redrive: the record may exist, re-find it first. */
  refind: z.literal(true).optional(),
});

/** Where commands too long for a message are kept: the run's bucket, through the blobs port. */
export interface SpillStore {
  readonly bucket: string;
  readonly blobs: Pick<BlobStore, 'putText' | 'read'>;
}

/**
 * A batch's bodies together stay within one message's limit (256 KiB), not SQS's 1 MiB batch
 * limit: the lower figure holds on every queue and every region, and costs at most a request more.
 */
const SQS_BATCH_BUDGET = Math.min(SQS_LIMITS.maxBatchBytes, SQS_LIMITS.maxMessageBytes);

/**
 * Groups message bodies into SendMessageBatch requests within SQS's limits: at most
 * `maxBatchEntries` (10) entries and at most `maxBatchBytes` bytes (UTF-8) of bodies each, in
 * order. Each body must itself fit (at most `maxMessageBytes`). Returns index groups into `bodies`.
 */
export function batchesBySize(
  bodies: readonly string[],
  maxEntries: number = SQS_LIMITS.maxBatchEntries,
  maxBytes: number = SQS_BATCH_BUDGET,
): number[][] {
  const out: number[][] = [];
  let current: number[] = [];
  let bytes = 0;
  bodies.forEach((body, i) => {
    const size = utf8Bytes(body);
    if (current.length && (current.length >= maxEntries || bytes + size > maxBytes)) {
      out.push(current);
      current = [];
      bytes = 0;
    }
    current.push(i);
    bytes += size;
  });
  if (current.length) out.push(current);
  return out;
}

/** The largest message and batch a queue has sent, in bytes (a bench prints them beside AWS's limits). */
export interface QueueFigures {
  largestMessageBytes: number;
  largestBatchBytes: number;
  largestBatchEntries: number;
  /** Commands kept in the bucket because they were longer than a message may be. */
  spilled: number;
}

/**
 * The writer queue: commands go out in batches of at most ten and 256 KiB. A command whose body
 * is longer than an SQS message may be (a native note with long escaped text) is kept in the
 * run's bucket and its message carries only the pointer; without a bucket it is refused with an
 * Error naming the record (never sent and lost).
 */
export class SqsCommandQueue implements CommandQueue {
  readonly figures: QueueFigures = {
    largestMessageBytes: 0,
    largestBatchBytes: 0,
    largestBatchEntries: 0,
    spilled: 0,
  };

  constructor(
    private readonly queueUrl: string,
    private readonly sqs: SQSClient = new SQSClient({}),
    private readonly spill?: SpillStore,
  ) {}

  async send(commands: readonly WriteCommand[]): Promise<void> {
    const bodies = await Promise.all(commands.map((c) => this.messageFor(c)));
    for (const group of batchesBySize(bodies)) {
      const bytes = group.reduce((n, i) => n + utf8Bytes(bodies[i] ?? ''), 0);
      this.figures.largestBatchBytes = Math.max(this.figures.largestBatchBytes, bytes);
      this.figures.largestBatchEntries = Math.max(this.figures.largestBatchEntries, group.length);
      const res = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          // The clinic as message group: SQS fair queues keep one clinic's backlog from starving
          // another clinic's writes in the same stack.
          Entries: group.map((i) => ({
            Id: String(i),
            MessageBody: bodies[i] ?? '',
            MessageGroupId: commands[i]?.clinicId ?? '',
          })),
        }),
      );
      if (res.Failed?.length)
        throw new Error(`SQS refused ${res.Failed.length} write commands: ${res.Failed[0]?.Message ?? ''}`);
    }
  }

  /** Sends a command back for later (rate limit): a new message, so it does not count as a failed receive. */
  async sendLater(command: WriteCommand, delaySeconds: number): Promise<void> {
    await this.sqs.send(
      new SendMessageCommand({
        QueueUrl: this.queueUrl,
        MessageBody: await this.messageFor(command),
        MessageGroupId: command.clinicId,
        DelaySeconds: Math.min(SQS_LIMITS.maxDelaySeconds, Math.max(0, Math.ceil(delaySeconds))),
      }),
    );
  }

  /**
   * Hands received messages back to come again after `seconds` each (ChangeMessageVisibility),
   * ten to a request. The write queue's visibility timeout is six times the writer's 15 minutes
   * (AWS's rule for Lambda event sources); a failed write should not wait 90 minutes for its retry.
   * Best effort: a message it could not change comes back at the queue's own timeout.
   */
  async retryLater(messages: readonly { receiptHandle: string; seconds: number }[]): Promise<void> {
    for (let i = 0; i < messages.length; i += SQS_LIMITS.maxBatchEntries) {
      try {
        await this.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.queueUrl,
            Entries: messages.slice(i, i + SQS_LIMITS.maxBatchEntries).map((m, j) => ({
              Id: String(j),
              ReceiptHandle: m.receiptHandle,
              VisibilityTimeout: Math.min(SQS_LIMITS.maxVisibilityTimeoutSeconds, Math.ceil(m.seconds)),
            })),
          }),
        );
      } catch {
        // the message comes back at the queue's own visibility timeout instead
      }
    }
  }

  /**
   * A received message's command text: the body itself, or the command kept in the bucket that
   * the body points to. Throws when the pointed-to object cannot be read (the message is retried).
   */
  async bodyOf(body: string): Promise<string> {
    if (!body.includes('"spilledBody"')) return body;
    let pointer: z.output<typeof SpilledBody>;
    try {
      pointer = parseAt('SQS message pointer', SpilledBody, JSON.parse(body));
    } catch {
      return body;
    }
    const stream = await (this.spill?.blobs ?? missingSpill()).read(
      pointer.spilledBody.bucket,
      pointer.spilledBody.key,
    );
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(Buffer.from(chunk as Buffer));
    const text = Buffer.concat(chunks).toString('utf8');
    return pointer.refind ? withRefind(text) : text;
  }

  /** The message body of a command: inline when it fits, else a pointer to it in the bucket. */
  private async messageFor(command: WriteCommand): Promise<string> {
    const body = messageBody(command);
    const size = utf8Bytes(body);
    if (size <= SQS_LIMITS.maxMessageBytes) {
      this.figures.largestMessageBytes = Math.max(this.figures.largestMessageBytes, size);
      return body;
    }
    if (!this.spill)
      throw new Error(
        `write command ${command.entity} ${command.sourceId} (${command.file} row ${command.row}) is ${size} bytes, longer than an SQS message may be (${SQS_LIMITS.maxMessageBytes}), and no bucket was given to keep it in`,
      );
    const key = keys.spilledCommand(
      command.runId,
      `${command.entity}-${createHash('sha256').update(body).digest('hex').slice(0, 32)}`,
    );
    await this.spill.blobs.putText(this.spill.bucket, key, body, 'application/json');
    this.figures.spilled++;
    const pointer = JSON.stringify({ spilledBody: { bucket: this.spill.bucket, key } });
    this.figures.largestMessageBytes = Math.max(this.figures.largestMessageBytes, utf8Bytes(pointer));
    return pointer;
  }

  async outstanding(): Promise<number> {
    const res = await this.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: this.queueUrl,
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
}

const missingSpill = (): never => {
  throw new Error('a write message points into the bucket, but this queue was given no bucket to read');
};

/**
 * A message body whose command must re-find its record before creating it (a redriven command: an
 * earlier attempt may have created it). A later `"refind"` key of the body cannot undo it: the
 * command only ever sets it to true.
 */
export function withRefind(body: string): string {
  return body.startsWith('{') ? `{"refind":true,${body.slice(1)}` : body;
}
