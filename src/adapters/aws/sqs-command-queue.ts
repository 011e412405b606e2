import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
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

/** The writer queue: commands go out ten to a request. */
export class SqsCommandQueue implements CommandQueue {
  constructor(
    private readonly queueUrl: string,
    private readonly sqs: SQSClient = new SQSClient({}),
  ) {}

  async send(commands: readonly WriteCommand[]): Promise<void> {
    for (let i = 0; i < commands.length; i += 10) {
      const chunk = commands.slice(i, i + 10);
      const res = await this.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: this.queueUrl,
          // The clinic as message group: SQS fair queues keep one clinic's backlog from starving
          // another clinic's writes in the same stack.
          Entries: chunk.map((c, j) => ({
            Id: String(j),
            MessageBody: messageBody(c),
            MessageGroupId: c.clinicId,
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
        MessageBody: messageBody(command),
        MessageGroupId: command.clinicId,
        DelaySeconds: Math.min(900, Math.max(0, Math.ceil(delaySeconds))),
      }),
    );
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
