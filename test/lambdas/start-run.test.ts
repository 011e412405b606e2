import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { runName, runStartFor } from '../../lambdas/start-run/start-run.js';

process.env.STATE_MACHINE_ARN = 'arn:aws:states:ap-southeast-2:123456789012:stateMachine:Pipeline';
process.env.STATUS_TABLE = 'status';
const sfn = mockClient(SFNClient);
const ddb = mockClient(DynamoDBDocumentClient);
const { handler } = await import('../../lambdas/start-run/handler.js');

const event = (key: string, version = 'v1') =>
  ({
    detail: {
      bucket: { name: 'exports-bucket' },
      object: { key, 'version-id': version, etag: 'e' },
      requester: '123456789012',
    },
  }) as unknown as EventBridgeEvent<'Object Created', never>;

/**
 * The status table's clinic gates as DynamoDB would keep them: a put under the gate's condition
 * succeeds only when the clinic is free, held by the same run, or its hold expired.
 */
let gates: Map<string, Record<string, unknown>>;
beforeEach(() => {
  sfn.reset();
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
  ddb.reset();
  gates = new Map();
  ddb.on(PutCommand).callsFake((input: { Item: Record<string, unknown> }) => {
    const pk = String(input.Item.pk);
    const old = gates.get(pk);
    const free =
      !old || old.runId === input.Item.runId || Number(old.expiresAt) <= Math.floor(Date.now() / 1000);
    if (!free)
      throw new ConditionalCheckFailedException({ message: 'The conditional request failed', $metadata: {} });
    gates.set(pk, input.Item);
    return { Attributes: old };
  });
  ddb.on(GetCommand).callsFake((input: { Key: { pk: string } }) => ({ Item: gates.get(input.Key.pk) }));
  ddb
    .on(DeleteCommand)
    .callsFake((input: { Key: { pk: string }; ExpressionAttributeValues: Record<string, unknown> }) => {
      if (gates.get(input.Key.pk)?.runId !== input.ExpressionAttributeValues[':run'])
        throw new ConditionalCheckFailedException({
          message: 'The conditional request failed',
          $metadata: {},
        });
      gates.delete(input.Key.pk);
      return {};
    });
});

/** The event as the run-start queue delivers it to StartRun. */
const queued = (key: string) => ({
  Records: [{ messageId: 'm1', body: JSON.stringify(event(key)), eventSource: 'aws:sqs' }],
});
const running = (n: number) =>
  Array.from({ length: n }, (_, i) => ({
    executionArn: `arn:e${i}`,
    stateMachineArn: 'arn:sm',
    name: `run-${i}`,
    status: 'RUNNING' as const,
    startDate: new Date(),
  }));

describe('start-run', () => {
  it('starts a dry run named after the object and its version', async () => {
    // Arrange
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    // Act
    const out = await handler(event('exports/clinic-7/gensolve%202026.zip'));
    // Assert
    expect(out).toEqual({
      started: true,
      name: runName('exports-bucket', 'exports/clinic-7/gensolve 2026.zip', 'v1'),
    });
    const input = JSON.parse(String(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input.input));
    expect(input).toMatchObject({
      clinicId: 'clinic-7',
      mode: 'dry-run',
      key: 'exports/clinic-7/gensolve 2026.zip',
      startedBy: '123456789012',
    });
  });

  it('starts a run from the run-start queue while a run slot is free', async () => {
    process.env.MAX_CONCURRENT_RUNS = '3';
    sfn.on(ListExecutionsCommand).resolves({ executions: running(2) });
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    expect(await handler(queued('exports/clinic-7/a.zip'))).toMatchObject({ started: true });
    expect(sfn).toHaveReceivedCommandWith(ListExecutionsCommand, { statusFilter: 'RUNNING', maxResults: 3 });
    delete process.env.MAX_CONCURRENT_RUNS;
  });

  it('leaves the export waiting in the queue (RunsAtCapacity, nothing started) while every run slot is taken', async () => {
    process.env.MAX_CONCURRENT_RUNS = '3';
    sfn.on(ListExecutionsCommand).resolves({ executions: running(3) });
    await expect(handler(queued('exports/clinic-7/a.zip'))).rejects.toMatchObject({ name: 'RunsAtCapacity' });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    delete process.env.MAX_CONCURRENT_RUNS;
  });

  it('treats a duplicate event as already started, not as a failure', async () => {
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await handler(event('exports/clinic-7/a.zip'))).toMatchObject({ started: false });
    // the run had ended and given the clinic back: the duplicate holds nothing either
    expect(gates.size).toBe(0);
  });

  it('starts one run of two exports of a clinic dropped together; the other waits in the queue (ClinicBusy)', async () => {
    // Arrange
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    const first = runName('exports-bucket', 'exports/clinic-7/a.zip', 'v1');
    // Act
    const both = await Promise.allSettled([
      handler(queued('exports/clinic-7/a.zip')),
      handler(queued('exports/clinic-7/b.zip')),
    ]);
    // Assert
    expect(both[0]).toMatchObject({ status: 'fulfilled', value: { started: true, name: first } });
    expect(both[1]).toMatchObject({ status: 'rejected', reason: { name: 'ClinicBusy' } });
    const refusal = both[1]?.status === 'rejected' ? String(both[1].reason) : '';
    expect(refusal).toContain(`run ${first} (dry-run`);
    expect(refusal).toContain('waits in the run-start queue');
    expect(sfn).toHaveReceivedCommandTimes(StartExecutionCommand, 1);
    expect(gates.get('CLINIC#clinic-7')).toMatchObject({
      sk: 'ACTIVE',
      runId: first,
      mode: 'dry-run',
      exportKey: 'exports/clinic-7/a.zip',
    });
    // another clinic is not held up
    expect(await handler(queued('exports/clinic-8/a.zip'))).toMatchObject({ started: true });
  });

  it('starts the waiting export once the holder gives the clinic back', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'arn:x' });
    const first = runName('exports-bucket', 'exports/clinic-7/a.zip', 'v1');
    await handler(queued('exports/clinic-7/a.zip'));
    await expect(handler(queued('exports/clinic-7/b.zip'))).rejects.toMatchObject({ name: 'ClinicBusy' });
    // Report of the first run
    gates.delete('CLINIC#clinic-7');
    expect(await handler(queued('exports/clinic-7/b.zip'))).toMatchObject({ started: true });
    expect(gates.get('CLINIC#clinic-7')?.runId).not.toBe(first);
  });

  it('keeps a live run’s hold when its event comes again while it runs', async () => {
    sfn.on(StartExecutionCommand).resolvesOnce({ executionArn: 'arn:x' });
    await handler(event('exports/clinic-7/a.zip.approved'));
    sfn.on(StartExecutionCommand).rejects(new ExecutionAlreadyExists({ message: 'exists', $metadata: {} }));
    expect(await handler(event('exports/clinic-7/a.zip.approved'))).toMatchObject({ started: false });
    expect(gates.get('CLINIC#clinic-7')).toMatchObject({
      mode: 'live',
      exportKey: 'exports/clinic-7/a.zip.approved',
    });
  });

  it('gives the clinic back when the execution could not be started', async () => {
    sfn.on(StartExecutionCommand).rejects(new Error('AccessDenied'));
    await expect(handler(event('exports/clinic-7/a.zip'))).rejects.toThrow('AccessDenied');
    expect(gates.size).toBe(0);
  });

  it('gives the same object version the same name, and a new version a new one', () => {
    const a = runStartFor({ bucket: 'b', key: 'exports/c/a.zip', versionId: '1' });
    expect(runStartFor({ bucket: 'b', key: 'exports/c/a.zip', versionId: '1' })?.name).toBe(a?.name);
    expect(runStartFor({ bucket: 'b', key: 'exports/c/a.zip', versionId: '2' })?.name).not.toBe(a?.name);
    expect(a?.name).toMatch(/^[A-Za-z0-9_-]{1,80}$/);
  });

  it('starts the live run of the export beside an approval marker, once per marker version', () => {
    const live = runStartFor({ bucket: 'b', key: 'exports/c/a.zip.approved', versionId: '1' });
    expect(live?.input).toMatchObject({
      mode: 'live',
      key: 'exports/c/a.zip',
      clinicId: 'c',
      approvalKey: 'exports/c/a.zip.approved',
    });
    const dry = runStartFor({ bucket: 'b', key: 'exports/c/a.zip', versionId: '1' });
    expect(dry?.input).toMatchObject({ mode: 'dry-run', approvalKey: '' });
    expect(live?.name).not.toBe(dry?.name);
    expect(runStartFor({ bucket: 'b', key: 'exports/c/a.zip.approved', versionId: '1' })?.name).toBe(
      live?.name,
    );
    expect(runStartFor({ bucket: 'b', key: 'exports/c/a.csv.approved' })).toBeUndefined();
  });

  it('ignores objects that are not exports', async () => {
    expect(await handler(event('reports/clinic-7/r.json'))).toEqual({ started: false });
    expect(sfn).not.toHaveReceivedCommand(StartExecutionCommand);
    expect(runStartFor({ bucket: 'b', key: 'exports/../x.zip' })).toBeUndefined();
  });
});
