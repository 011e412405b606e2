import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { ChangeMessageVisibilityBatchCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  BatchGetCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import type { Context, SQSEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { startSandbox } from '../../apps/sandbox/server.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';
import { medicalAlertStep } from '../../src/ports/id-map.js';
import { runInfo } from '../support/run-info.js';

/**
 * The writer handler with the AWS SDK mocked (DynamoDB, SQS, Secrets Manager) and Cliniko played
 * by the sandbox: which messages are reported back for retry, and which are done.
 */
const KEY = 'WriterUnitKey000000000000001-au1';
Object.assign(process.env, {
  STATUS_TABLE: 'status',
  WRITE_QUEUE_URL: 'https://sqs.local/q',
  CLINIKO_SECRET_PREFIX: 'p/',
  AWS_REGION: 'ap-southeast-2',
  CLINIKO_MAX_ATTEMPTS: '2',
  CLINIKO_RETRY_BASE_MS: '5',
});
const ddb = mockClient(DynamoDBDocumentClient);
mockClient(DynamoDBClient);
const sqs = mockClient(SQSClient);
const secrets = mockClient(SecretsManagerClient);
const { handler } = await import('../../lambdas/write/handler.js');

let sandbox: Sandbox;
/** Cliniko requests by method and path, as the sandbox received them. */
const received: string[] = [];
beforeAll(async () => {
  sandbox = await startSandbox({
    rateLimit: 100_000,
    observe: (method, path) => received.push(`${method} ${path}`),
    seed: {
      users: [{ first_name: 'A', last_name: 'B', api_key: KEY }],
      businesses: [{ business_name: 'X' }],
    },
  });
});
afterAll(() => sandbox.close());

const run = runInfo({ runId: 'r1', clinicId: 'c1', scope: 'c1@au1-1', mode: 'live', clinikoUsers: ['1'] });
const command = (sourceId: string, body: Record<string, unknown>): WriteCommand => ({
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
    body: { old_reference_id: sourceId, first_name: 'A', last_name: 'B', ...body },
    alerts: [],
  },
});
const sqsEvent = (...cmds: WriteCommand[]): SQSEvent => ({
  Records: cmds.map(
    (c, i) =>
      ({
        messageId: `m${i}`,
        receiptHandle: `h${i}`,
        body: JSON.stringify(c),
        attributes: { ApproximateReceiveCount: '1' },
      }) as never,
  ),
});
const context = {
  functionName: 'Writer',
  awsRequestId: 'x',
  getRemainingTimeInMillis: () => 60_000,
} as unknown as Context;

beforeEach(() => {
  ddb.reset();
  sqs.reset();
  secrets.reset();
  secrets
    .on(GetSecretValueCommand)
    .resolves({ SecretString: JSON.stringify({ apiKeys: [KEY], baseUrl: sandbox.baseUrl }) });
  ddb.on(GetCommand, { Key: { pk: 'RUN#r1', sk: 'RUN' } }).resolves({ Item: { run, status: 'planned' } });
  // token bucket: always a full bucket
  ddb
    .on(GetCommand)
    .callsFake((input: { Key: { pk: string } }) =>
      input.Key.pk === 'RUN#r1' ? { Item: { run, status: 'planned' } } : {},
    );
  ddb.on(BatchGetCommand).resolves({ Responses: { status: [] } });
  ddb.on(PutCommand).resolves({});
  ddb.on(UpdateCommand).resolves({});
});

describe('writer handler', () => {
  it('reports a transient failure for retry and completes the others; a 422 is a result, not a retry', async () => {
    sandbox.faults = { serverError: 0, rateLimited: 0, dropAfterCommit: 0, latencyMs: 0 };
    const ok = command('C1', {});
    const invalid = command('C2', { email: 'not an email' });
    const unavailable = command('C3', {});
    const alwaysDown = await startSandbox({
      rateLimit: 100_000,
      seed: { users: [{ first_name: 'A', last_name: 'B', api_key: KEY }] },
      alwaysFail: () => true,
    });
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ apiKeys: [KEY], baseUrl: sandbox.baseUrl }) });
    const result = await handler(sqsEvent(ok, invalid), context);
    expect(result.batchItemFailures).toEqual([]);
    const outcomes = ddb
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':o'])
      .filter(Boolean);
    expect(outcomes).toEqual(['created', 'failed']);
    const reason = ddb
      .commandCalls(UpdateCommand)
      .find((c) => c.args[0].input.ExpressionAttributeValues?.[':o'] === 'failed')?.args[0].input
      .ExpressionAttributeValues?.[':r'];
    expect(reason).toBe('email is invalid');
    // the refusal points at the source row and the column behind the key Cliniko named
    const refused = ddb
      .commandCalls(UpdateCommand)
      .find((c) => c.args[0].input.ExpressionAttributeValues?.[':o'] === 'failed')?.args[0]
      .input.ExpressionAttributeValues;
    expect(refused).toMatchObject({ ':file': 'Clients.csv', ':row': 2, ':field': 'Email' });
    // a Cliniko that answers 503 to everything: the message goes back to the queue
    await import('../../lambdas/shared/runtime.js').then((m) => m.resetRuntime());
    secrets
      .on(GetSecretValueCommand)
      .resolves({ SecretString: JSON.stringify({ apiKeys: [KEY], baseUrl: alwaysDown.baseUrl }) });
    const down = await handler(
      { Records: [{ ...sqsEvent(unavailable).Records[0], messageId: 'm9' }] } as SQSEvent,
      context,
    ).catch((e: Error) => e);
    await alwaysDown.close();
    // Powertools fails the whole invocation when every record failed
    expect(down instanceof Error ? down.name : down.batchItemFailures).toMatch(/FullBatchFailureError|m9/);
  });

  it('refuses a malformed message (reported failed, nothing written) and writes the rest of the batch', async () => {
    await import('../../lambdas/shared/runtime.js').then((m) => m.resetRuntime());
    const ok = command('C5', {});
    const event = sqsEvent(ok, ok);
    const [first, second] = event.Records;
    if (!first || !second) throw new Error('two records expected');
    const malformed = {
      ...second,
      body: JSON.stringify({ ...ok, sourceId: 'C6', payload: { kind: 'patient' } }),
    };
    sqs.on(ChangeMessageVisibilityBatchCommand).resolves({});
    const result = await handler({ Records: [first, malformed] }, context);
    expect(result.batchItemFailures).toEqual([{ itemIdentifier: 'm1' }]);
    // the failed message comes back after its backoff (30 s at its first receive), not the queue's 90 min
    expect(sqs.commandCalls(ChangeMessageVisibilityBatchCommand).map((c) => c.args[0].input.Entries)).toEqual(
      [[{ Id: '0', ReceiptHandle: 'h1', VisibilityTimeout: 30 }]],
    );
    const outcomes = ddb
      .commandCalls(UpdateCommand)
      .map((c) => c.args[0].input.ExpressionAttributeValues?.[':o'])
      .filter(Boolean);
    expect(outcomes).toEqual(['created']);
    // refused where it enters: the status table was never asked about its record
    expect(ddb.calls().filter((c) => JSON.stringify(c.args[0].input).includes('C6'))).toEqual([]);
  });

  it('sends a message back with a delay instead of sleeping when the rate limit is spent', async () => {
    await import('../../lambdas/shared/runtime.js').then((m) => m.resetRuntime());
    // the shared bucket is empty and paused for a minute
    ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) =>
      input.Key.pk === 'RUN#r1'
        ? { Item: { run, status: 'planned' } }
        : !input.Key.pk.startsWith('LIMIT#')
          ? {}
          : {
              Item: {
                pk: input.Key.pk,
                tokens: 0,
                updatedAt: Date.now(),
                pausedUntil: Date.now() + 60_000,
                version: 1,
              },
            },
    );
    sqs.on(SendMessageCommand).resolves({});
    const started = Date.now();
    const result = await handler(sqsEvent(command('C4', {})), context);
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(result.batchItemFailures).toEqual([]);
    const resent = sqs.commandCalls(SendMessageCommand)[0]?.args[0].input;
    expect(resent?.DelaySeconds).toBeGreaterThan(50);
    expect(JSON.parse(String(resent?.MessageBody)).sourceId).toBe('C4');
  });

  it("reads the account's referral source types once, not once per batch", async () => {
    await import('../../lambdas/shared/runtime.js').then((m) => m.resetRuntime());
    sandbox.faults = { serverError: 0, rateLimited: 0, dropAfterCommit: 0, latencyMs: 0 };
    const contact = sandbox.state.insert('contacts', { first_name: 'Ref', last_name: 'Errer' });
    const referred = (sourceId: string): WriteCommand => {
      const c = command(sourceId, {});
      if (c.payload.kind !== 'patient') throw new Error('a patient command expected');
      return { ...c, payload: { ...c.payload, referral: { contactId: String(contact.id) } } };
    };
    received.length = 0;
    // two SQS batches, as two invocations of one warm container receive them
    for (const batch of [
      ['R1', 'R2'],
      ['R3', 'R4'],
    ])
      expect((await handler(sqsEvent(...batch.map(referred)), context)).batchItemFailures).toEqual([]);
    const referrals = received.filter((r) => /^PATCH .*\/referral_source$/.test(r));
    expect(referrals).toHaveLength(4);
    expect(received.filter((r) => r.endsWith('/referral_source_types'))).toHaveLength(1);
  });

  it('drops the kept secret when Cliniko refuses its key (401): the next message reads the rotated key', async () => {
    await import('../../lambdas/shared/runtime.js').then((m) => m.resetRuntime());
    sandbox.faults = { serverError: 0, rateLimited: 0, dropAfterCommit: 0, latencyMs: 0 };
    let current = 'RotatedAwayKey00000000000001-au1';
    secrets
      .on(GetSecretValueCommand)
      .callsFake(() => ({ SecretString: JSON.stringify({ apiKeys: [current], baseUrl: sandbox.baseUrl }) }));
    const outcomes = () =>
      ddb
        .commandCalls(UpdateCommand)
        .map((c) => c.args[0].input.ExpressionAttributeValues?.[':o'])
        .filter(Boolean);
    // the key was rotated in Secrets Manager after this container read it: Cliniko refuses it
    expect((await handler(sqsEvent(command('K1', {})), context)).batchItemFailures).toEqual([]);
    expect(outcomes()).toEqual(['failed']);
    current = KEY;
    ddb.resetHistory();
    // well within the secret's maximum age, the next message reads the secret again and writes
    expect((await handler(sqsEvent(command('K2', {})), context)).batchItemFailures).toEqual([]);
    expect(outcomes()).toEqual(['created']);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    // and keeps it while Cliniko accepts it
    expect((await handler(sqsEvent(command('K3', {})), context)).batchItemFailures).toEqual([]);
    expect(secrets.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('notes the id of each medical alert it creates with a patient, for a rollback to know the run made it', async () => {
    await import('../../lambdas/shared/runtime.js').then((m) => m.resetRuntime());
    sandbox.faults = { serverError: 0, rateLimited: 0, dropAfterCommit: 0, latencyMs: 0 };
    const c = command('AL1', {});
    if (c.payload.kind !== 'patient') throw new Error('a patient command expected');
    const alerted: WriteCommand = { ...c, payload: { ...c.payload, alerts: ['Anticoagulants', 'Latex'] } };
    expect((await handler(sqsEvent(alerted), context)).batchItemFailures).toEqual([]);
    const patient = sandbox.state.all('patients').find((p) => p.old_reference_id === 'AL1');
    const alerts = sandbox.state.all('medical_alerts').filter((a) => a.patient_id === patient?.id);
    expect(alerts.map((a) => a.name)).toEqual(['Anticoagulants', 'Latex']);
    const steps = ddb
      .commandCalls(UpdateCommand)
      .filter((u) => u.args[0].input.Key?.sk === 'ID#patients#AL1')
      .flatMap((u) => (u.args[0].input.ExpressionAttributeValues?.[':step'] as string[] | undefined) ?? []);
    expect(steps).toEqual([...alerts.map((a) => medicalAlertStep(a.id)), 'alerts']);
  });
});
