import {
  CreateQueueCommand,
  ReceiveMessageCommand,
  SendMessageCommand,
  SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Emulators, startEmulators } from '../../apps/local/emulators.js';
import { resend, runOfMessage, takeDeadLetters } from '../../src/adapters/aws/sqs-redrive.js';

/** Taking one run's messages out of the stack's shared dead-letter queue, on fauxqs (no mocks). */
let emulators: Emulators;
let sqs: SQSClient;
const saved = { ...process.env };
beforeAll(async () => {
  emulators = await startEmulators();
  Object.assign(process.env, emulators.env);
  sqs = new SQSClient({});
});
afterAll(async () => {
  sqs.destroy();
  await emulators.stop();
  for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
  Object.assign(process.env, saved);
});

const queue = async (name: string) =>
  String((await sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl);

describe('takeDeadLetters and resend', () => {
  it("moves this run's messages only, marked to re-find their record, and leaves other runs' in place", async () => {
    const dlq = await queue('dead');
    const writes = await queue('writes');
    const bodies = [
      JSON.stringify({ runId: 'run-a', clinicId: 'c1', sourceId: 'P1' }),
      JSON.stringify({ runId: 'run-b', clinicId: 'c2', sourceId: 'P2' }),
      JSON.stringify({ spilledBody: { bucket: 'b', key: 'work/run-a/messages/patients-x.json' } }),
      'not a command',
    ];
    for (const MessageBody of bodies) await sqs.send(new SendMessageCommand({ QueueUrl: dlq, MessageBody }));

    const taken = await takeDeadLetters(sqs, dlq, 'run-a', (letters) => resend(sqs, writes, letters), 2);
    expect(taken).toBe(2);
    const moved = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: writes, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const sent = (moved.Messages ?? []).map((m) => JSON.parse(String(m.Body)) as Record<string, unknown>);
    expect(sent).toHaveLength(2);
    for (const m of sent) expect(m.refind).toBe(true);
    expect(sent.map((m) => runOfMessage(JSON.stringify(m))?.runId)).toEqual(['run-a', 'run-a']);

    // the other run's message and the stranger come back to the dead-letter queue
    await new Promise((r) => setTimeout(r, 2_100));
    const left = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: dlq, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    expect((left.Messages ?? []).map((m) => m.Body).sort()).toEqual([bodies[1], bodies[3]].sort());
  }, 30_000);
});
