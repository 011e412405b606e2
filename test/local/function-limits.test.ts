import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Emulators, startEmulators } from '../../apps/local/emulators.js';
import { InvocationFigures, withinTimeout } from '../../apps/local/function-limits.js';
import { startHandlerThread } from '../../apps/local/handler-thread.js';
import { provision } from '../../apps/local/provision.js';
import { startPoller } from '../../apps/local/sqs-poller.js';
import { LAMBDA_ERRORS, SQS_ERRORS, SQS_LIMITS } from '../../src/core/aws-limits.js';

/**
 * The limits AWS enforces and the local emulators do not (or do): each crossed on purpose, the
 * invocation or the request fails with the error name AWS gives.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe("a function's timeout", () => {
  it('fails a step still running at its timeout with Sandbox.Timedout, as Step Functions shows it', async () => {
    const figures = new InvocationFigures();
    const err = await withinTimeout('Plan', { timeoutSeconds: 0.2 }, () => sleep(2_000), figures).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ name: LAMBDA_ERRORS.timedOut, message: 'Task timed out after 0.20 seconds' });
    expect(figures.longestMs().Plan).toBeGreaterThanOrEqual(190);
    expect(figures.longestMs().Plan).toBeLessThan(1_500);
  });

  it('lets a step inside its timeout answer, and records its duration', async () => {
    const figures = new InvocationFigures();
    await expect(
      withinTimeout(
        'Plan',
        { timeoutSeconds: 2 },
        async () => {
          await sleep(50);
          return 'done';
        },
        figures,
      ),
    ).resolves.toBe('done');
    expect(figures.longestMs().Plan).toBeGreaterThanOrEqual(45);
  });
});

describe("a function's memory", () => {
  it('fails an invocation that outgrows its MemorySize with Runtime.OutOfMemory, and a fresh thread takes the next', async () => {
    const thread = startHandlerThread('test/fixtures/handlers/busy-handler.ts', 'MapBatch', {
      timeoutSeconds: 60,
      memoryMb: 96,
    });
    try {
      const err = await thread.invoke({ grabMb: 400 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: LAMBDA_ERRORS.outOfMemory });
      await expect(thread.invoke({ grabMb: 4 })).resolves.toEqual({ kept: 4 });
    } finally {
      await thread.stop();
    }
  }, 60_000);
});

describe('SQS and the writers on the local emulators', () => {
  let emulators: Emulators;
  const saved = { ...process.env };
  let sqs: SQSClient;
  let queueUrl = '';
  beforeAll(async () => {
    emulators = await startEmulators();
    Object.assign(process.env, emulators.env);
    sqs = new SQSClient({});
    // the write queue as the stack declares it (test/lib/stack.test.ts checks the stack's figure)
    const local = await provision(
      {
        Resources: {
          WriteQueue: {
            Type: 'AWS::SQS::Queue',
            Properties: { MaximumMessageSize: SQS_LIMITS.maxMessageBytes },
          },
        },
      },
      { visibilityTimeoutSeconds: 1, suffix: 'limits' },
    );
    queueUrl = String(local.refs.WriteQueue);
  });
  afterAll(async () => {
    sqs.destroy();
    await emulators.stop();
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  });

  it('refuses a message longer than the queue allows (fauxqs checks it, as SQS does)', async () => {
    await expect(
      sqs.send(
        new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: 'x'.repeat(SQS_LIMITS.maxMessageBytes) }),
      ),
    ).resolves.toBeDefined();
    const err = await sqs
      .send(
        new SendMessageCommand({
          QueueUrl: queueUrl,
          MessageBody: 'x'.repeat(SQS_LIMITS.maxMessageBytes + 1),
        }),
      )
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ name: expect.stringContaining(SQS_ERRORS.messageTooLong) });
  });

  it('refuses a batch of more than ten entries, or longer than 1 MiB together', async () => {
    const entries = (n: number, bytes: number) =>
      Array.from({ length: n }, (_, i) => ({ Id: String(i), MessageBody: 'x'.repeat(bytes) }));
    const tooMany = await sqs
      .send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries(11, 10) }))
      .catch((e: unknown) => e);
    expect(tooMany).toMatchObject({ name: expect.stringContaining(SQS_ERRORS.tooManyEntries) });
    const tooLong = await sqs
      .send(new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: entries(5, 250_000) }))
      .catch((e: unknown) => e);
    expect(tooLong).toMatchObject({ name: expect.stringContaining(SQS_ERRORS.batchTooLong) });
  });

  it("fails a writer invocation still running at the writer's timeout: its batch comes back", async () => {
    const other = await sqs.send(
      new CreateQueueCommand({ QueueName: 'slow-writer', Attributes: { VisibilityTimeout: '1' } }),
    );
    const url = String(other.QueueUrl);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: '{"n":1}' }));
    const receives: number[] = [];
    const poller = startPoller({
      queueUrl: url,
      queueArn: 'arn:aws:sqs:us-east-1:000000000000:slow-writer',
      batchSize: 10,
      reportBatchItemFailures: true,
      concurrency: 1,
      visibilityTimeoutSeconds: 1,
      limits: { timeoutSeconds: 1, memoryMb: 128 },
      handler: async (event) => {
        const count = Number(event.Records[0]?.attributes.ApproximateReceiveCount);
        receives.push(count);
        // the first delivery outlasts the timeout; the second is quick
        if (count === 1) await sleep(3_000);
        return { batchItemFailures: [] };
      },
    });
    const until = Date.now() + 15_000;
    while (receives.length < 2 && Date.now() < until) await sleep(100);
    await poller.stop();
    expect(receives.slice(0, 2)).toEqual([1, 2]);
    const figures = poller.figures();
    expect(figures.longestInvocationMs).toBeGreaterThanOrEqual(990);
    expect(figures.longestInvocationMs).toBeLessThan(2_500);
    expect(figures.largestMessageBytes).toBe(7);
    const left = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(left.Attributes?.ApproximateNumberOfMessages).toBe('0');
  }, 30_000);
});
