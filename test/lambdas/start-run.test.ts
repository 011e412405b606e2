import {
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { beforeEach, describe, expect, it } from '@jest/globals';
import type { EventBridgeEvent } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { runName, runStartFor } from '../../lambdas/start-run/start-run.js';

process.env.STATE_MACHINE_ARN = 'arn:aws:states:ap-southeast-2:123456789012:stateMachine:Pipeline';
const sfn = mockClient(SFNClient);
const { handler } = await import('../../lambdas/start-run/handler.js');

const event = (key: string, version = 'v1') =>
  ({
    detail: {
      bucket: { name: 'exports-bucket' },
      object: { key, 'version-id': version, etag: 'e' },
      requester: '123456789012',
    },
  }) as unknown as EventBridgeEvent<'Object Created', never>;

beforeEach(() => {
  sfn.reset();
  sfn.on(ListExecutionsCommand).resolves({ executions: [] });
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
