import { Readable } from 'node:stream';
import {
  ChangeMessageVisibilityBatchCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { batchesBySize, SqsCommandQueue } from '../../src/adapters/aws/sqs-command-queue.js';
import { SQS_LIMITS, utf8Bytes } from '../../src/core/aws-limits.js';
import { parseWriteMessage } from '../../src/mapping/write-payload.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';

/** The write queue's sends against SQS's limits: batches split by entries and bytes, long commands kept in the bucket. */
const sqs = mockClient(SQSClient);
beforeEach(() => {
  sqs.reset();
  sqs.on(SendMessageBatchCommand).resolves({ Successful: [], Failed: [] });
  sqs.on(SendMessageCommand).resolves({});
});

/** A patient command whose notes field holds `chars` characters that each escape to six bytes. */
const command = (sourceId: string, chars = 0): WriteCommand => ({
  runId: 'r1',
  clinicId: 'c1',
  scope: 'c1@au1-1',
  entity: 'patients',
  sourceId,
  file: 'Clients.csv',
  row: 2,
  hash: 'h',
  keyIndex: 0,
  payload: {
    kind: 'patient',
    body: { old_reference_id: sourceId, first_name: 'A', last_name: 'B', notes: 'é'.repeat(chars) },
    alerts: [],
  },
});

/** An in-memory bucket behind the blobs port. */
const bucketOf = () => {
  const objects = new Map<string, string>();
  return {
    objects,
    blobs: {
      putText: async (bucket: string, key: string, text: string) => {
        objects.set(`${bucket}/${key}`, text);
      },
      read: async (bucket: string, key: string) => Readable.from([objects.get(`${bucket}/${key}`) ?? '']),
    },
  };
};

const sentBatches = () => sqs.commandCalls(SendMessageBatchCommand).map((c) => c.args[0].input.Entries ?? []);

describe('SqsCommandQueue.send', () => {
  it('sends at most ten entries a batch', async () => {
    const queue = new SqsCommandQueue('q', new SQSClient({}));
    await queue.send(Array.from({ length: 23 }, (_, i) => command(`p${i}`)));
    expect(sentBatches().map((b) => b.length)).toEqual([10, 10, 3]);
  });

  it('splits a batch whose bodies together pass 256 KiB, each batch within it', async () => {
    const queue = new SqsCommandQueue('q', new SQSClient({}));
    // each body about 60 KB once escaped (10,000 × "\u00e9"): four fit, five do not
    await queue.send(Array.from({ length: 10 }, (_, i) => command(`p${i}`, 10_000)));
    const batches = sentBatches();
    expect(batches.map((b) => b.length)).toEqual([4, 4, 2]);
    for (const b of batches)
      expect(b.reduce((n, e) => n + utf8Bytes(e.MessageBody ?? ''), 0)).toBeLessThanOrEqual(
        SQS_LIMITS.maxMessageBytes,
      );
    expect(queue.figures.largestBatchEntries).toBe(4);
    expect(queue.figures.largestBatchBytes).toBeGreaterThan(200_000);
    expect(queue.figures.largestBatchBytes).toBeLessThanOrEqual(SQS_LIMITS.maxMessageBytes);
  });

  it('keeps a command longer than a message in the bucket and sends a pointer the writer follows', async () => {
    const bucket = bucketOf();
    const queue = new SqsCommandQueue('q', new SQSClient({}), { bucket: 'b', blobs: bucket.blobs });
    const long = command('big', 50_000); // about 300 KB escaped
    await queue.send([command('small'), long]);
    const bodies = sentBatches()
      .flat()
      .map((e) => e.MessageBody ?? '');
    expect(bodies).toHaveLength(2);
    for (const b of bodies) expect(utf8Bytes(b)).toBeLessThanOrEqual(SQS_LIMITS.maxMessageBytes);
    expect(bucket.objects.size).toBe(1);
    expect(queue.figures.spilled).toBe(1);
    const [, pointer] = bodies;
    expect(JSON.parse(String(pointer))).toEqual({
      spilledBody: { bucket: 'b', key: expect.stringMatching(/^work\/r1\/messages\/patients-/) },
    });
    // the writer's side: the pointer gives back exactly the command
    expect(parseWriteMessage(await queue.bodyOf(String(pointer)))).toEqual(long);
    expect(await queue.bodyOf(String(bodies[0]))).toBe(bodies[0]);
  });

  it('refuses a command longer than a message when it has no bucket, naming the record, and sends nothing of it', async () => {
    const queue = new SqsCommandQueue('q', new SQSClient({}));
    await expect(queue.send([command('big', 50_000)])).rejects.toThrow(
      /patients big \(Clients\.csv row 2\) is \d+ bytes, longer than an SQS message/,
    );
    expect(sentBatches()).toHaveLength(0);
  });

  it('keeps a long command sent back for later in the bucket too', async () => {
    const bucket = bucketOf();
    const queue = new SqsCommandQueue('q', new SQSClient({}), { bucket: 'b', blobs: bucket.blobs });
    await queue.sendLater(command('big', 50_000), 5);
    const body = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input.MessageBody ?? '';
    expect(body.startsWith('{"spilledBody"')).toBe(true);
  });

  it('hands failed messages back with their own visibility, ten to a request', async () => {
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    const queue = new SqsCommandQueue('q', new SQSClient({}));
    await queue.retryLater(Array.from({ length: 12 }, (_, i) => ({ receiptHandle: `h${i}`, seconds: 30 })));
    const calls = sqs.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input.Entries);
    expect(calls.map((e) => e?.length)).toEqual([10, 2]);
    expect(calls[0]?.[0]).toEqual({ Id: '0', ReceiptHandle: 'h0', VisibilityTimeout: 30 });
  });
});

describe('batchesBySize', () => {
  it('keeps order and starts a new batch before crossing entries or bytes', () => {
    expect(batchesBySize(['aaaa', 'bb', 'cccc', 'd'], 10, 6)).toEqual([
      [0, 1],
      [2, 3],
    ]);
    expect(batchesBySize(['a', 'b', 'c'], 2, 100)).toEqual([[0, 1], [2]]);
  });
});
