import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import type { CommandQueue, WriteCommand } from '../../src/pipeline/ports.js';

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
            MessageBody: JSON.stringify(c),
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
        MessageBody: JSON.stringify(command),
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
