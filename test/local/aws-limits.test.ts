import { describe, expect, it, jest } from '@jest/globals';
import { runExecutions } from '../../apps/local/execution.js';
import { simulateRun } from '../../apps/local/simulated-run.js';
import { AWS_LIMITS, LimitsMeter } from '../../src/core/aws-limits.js';

const ARN = 'arn:aws:states:us-east-1:000000000000:stateMachine:Test';
const LAMBDA = 'arn:aws:lambda:us-east-1:000000000000:function:Step';

/** A task that may fail, caught by States.ALL into a Pass: what the pipeline does with every task. */
const caughtTask = {
  StartAt: 'Step',
  States: {
    Step: {
      Type: 'Task',
      Resource: LAMBDA,
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Caught' }],
      Next: 'Done',
    },
    Caught: { Type: 'Pass', End: true },
    Done: { Type: 'Succeed' },
  },
};

const run = (
  definition: Record<string, unknown>,
  tasks: Record<string, (i: unknown) => Promise<unknown>>,
  more = {},
) =>
  runExecutions({
    definition,
    input: { runId: 'r1', bucket: 'b' },
    stateMachineArn: ARN,
    name: 'r1',
    tasks,
    readItems: async () => [],
    waitMs: 0,
    retryMs: 0,
    ...more,
  });

describe('the local runtime counts history events as Step Functions does', () => {
  it('counts a Task state five, a Pass or Succeed two, the execution two', async () => {
    const result = await run(caughtTask, { Step: async () => ({ ok: true }) });
    // ExecutionStarted; TaskStateEntered, Scheduled, Started, Succeeded, Exited; Succeed Entered, Exited; ExecutionSucceeded
    expect(result.executions).toEqual([{ name: 'r1', historyEvents: 9, status: 'SUCCEEDED' }]);
  });

  it('counts a Distributed Map four in its execution and each item in a child execution of its own, items read from S3', async () => {
    const definition = {
      StartAt: 'Each',
      States: {
        Each: {
          Type: 'Map',
          ItemReader: {
            Resource: 'arn:aws:states:::s3:getObject',
            ReaderConfig: { InputType: 'JSON' },
            Parameters: { 'Bucket.$': '$.bucket', Key: 'manifest.json' },
          },
          ItemProcessor: {
            ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
            StartAt: 'Item',
            States: { Item: { Type: 'Task', Resource: LAMBDA, End: true } },
          },
          ItemSelector: { 'runId.$': '$.runId', 'key.$': '$$.Map.Item.Value' },
          ResultPath: null,
          End: true,
        },
      },
    };
    const seen: unknown[] = [];
    const items = Array.from({ length: 50 }, (_, i) => `batch-${i}`);
    const result = await run(
      definition,
      {
        Item: async (input) => {
          seen.push(input);
          return {};
        },
      },
      {
        readItems: async (bucket: string, key: string) =>
          bucket === 'b' && key === 'manifest.json' ? items : [],
      },
    );
    expect(result.failure).toBeUndefined();
    expect(seen).toHaveLength(50);
    expect(seen).toContainEqual({ runId: 'r1', key: 'batch-49' });
    // ExecutionStarted, MapStateEntered, MapRunStarted, MapRunSucceeded, MapStateExited, ExecutionSucceeded
    expect(result.executions[0]?.historyEvents).toBe(6);
    // a child: ExecutionStarted, the task's five, ExecutionSucceeded
    expect(result.largestChildHistory).toBe(7);
  });
});

describe('a Distributed Map run locally', () => {
  it('has no 60 s limit (the emulator gives a Task without TimeoutSeconds 60 s; a Map on AWS has none)', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate', 'queueMicrotask'] });
    try {
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      const definition = {
        StartAt: 'Each',
        States: {
          Each: {
            Type: 'Map',
            ItemReader: {
              Resource: 'arn:aws:states:::s3:getObject',
              ReaderConfig: { InputType: 'JSON' },
              Parameters: { 'Bucket.$': '$.bucket', Key: 'manifest.json' },
            },
            ItemProcessor: {
              ProcessorConfig: { Mode: 'DISTRIBUTED', ExecutionType: 'STANDARD' },
              StartAt: 'Item',
              States: { Item: { Type: 'Task', Resource: LAMBDA, TimeoutSeconds: 900, End: true } },
            },
            ResultPath: null,
            End: true,
          },
        },
      };
      const running = run(
        definition,
        { Item: async () => gate.then(() => ({})) },
        { readItems: async () => ['batch-0', 'batch-1'] },
      );
      // the Map's items take ten minutes between them, each inside its own 900 s
      await jest.advanceTimersByTimeAsync(600_000);
      release();
      const result = await running;
      expect(result.failure).toBeUndefined();
      expect(result.executions[0]?.status).toBe('SUCCEEDED');
    } finally {
      jest.useRealTimers();
    }
  });
});

describe('the local runtime enforces Step Functions limits where AWS would', () => {
  it('fails an execution past 25,000 history events with States.Runtime, which no Catch handles', async () => {
    const loop = {
      StartAt: 'Step',
      States: {
        Step: {
          Type: 'Task',
          Resource: LAMBDA,
          Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Caught' }],
          Next: 'Again',
        },
        Again: { Type: 'Pass', Next: 'Step' },
        Caught: { Type: 'Pass', End: true },
      },
    };
    let calls = 0;
    const result = await run(loop, {
      Step: async () => {
        calls++;
        return {};
      },
    });
    expect(result.failure?.error).toBe('States.Runtime');
    expect(result.executions[0]?.status).toBe('FAILED');
    // seven events a loop: the task no more than 25,000 / 7 times, and not long after the limit
    expect(calls).toBeLessThanOrEqual(Math.ceil(AWS_LIMITS.stepFunctions.historyEventsPerExecution / 7));
    expect(calls).toBeGreaterThan(AWS_LIMITS.stepFunctions.historyEventsPerExecution / 7 - 2);
  }, 120_000);

  it("fails a task whose result is over 256 KiB with States.DataLimitExceeded, past the task's Catch", async () => {
    const meter = new LimitsMeter();
    const big = 'é'.repeat(AWS_LIMITS.stepFunctions.payloadBytes / 2); // two bytes each in UTF-8: over by the JSON quotes
    const result = await run(caughtTask, { Step: async () => ({ big }) }, { meter });
    expect(result.failure).toEqual({
      error: 'States.DataLimitExceeded',
      cause: expect.stringContaining('the output of Step'),
    });
    expect(meter.get('largest state payload')?.value).toBeGreaterThan(AWS_LIMITS.stepFunctions.payloadBytes);
  });

  it('fails a state whose output is over 256 KiB with States.DataLimitExceeded, before the next task runs', async () => {
    let ran = false;
    const definition = {
      StartAt: 'Make',
      States: {
        Make: {
          Type: 'Pass',
          Result: 'x'.repeat(AWS_LIMITS.stepFunctions.payloadBytes),
          ResultPath: '$.big',
          Next: 'Step',
        },
        ...caughtTask.States,
      },
    };
    const result = await run(definition, {
      Step: async () => {
        ran = true;
        return {};
      },
    });
    expect(result.failure).toEqual({
      error: 'States.DataLimitExceeded',
      cause: expect.stringContaining('Make'),
    });
    expect(ran).toBe(false);
  });

  it('refuses an execution whose input is over 256 KiB', async () => {
    const result = await run(
      caughtTask,
      { Step: async () => ({}) },
      { input: { big: 'x'.repeat(AWS_LIMITS.stepFunctions.payloadBytes) } },
    );
    expect(result.failure?.error).toBe('States.DataLimitExceeded');
    expect(result.executions).toEqual([{ name: 'r1', historyEvents: 0, status: 'FAILED' }]);
  });
});

describe('a long run under a virtual clock (the real definition)', () => {
  it('waits 11 days at one key for 200,000 patients and 3,000,000 appointments in a few executions of bounded history', async () => {
    const run = await simulateRun({ patients: 200_000, appointments: 3_000_000, recordsPerMinute: 200 });
    expect(run.failure).toBeUndefined();
    expect(run.seconds / 86_400).toBeGreaterThan(10.9);
    expect(run.executions.length).toBeGreaterThanOrEqual(3);
    for (const e of run.executions) {
      expect(e.status).toBe('SUCCEEDED');
      expect(e.name.startsWith('run-simulated')).toBe(true);
      expect(e.name.length).toBeLessThanOrEqual(AWS_LIMITS.stepFunctions.executionNameChars);
      expect(e.historyEvents).toBeLessThan(2_000);
    }
    expect(run.executions.slice(1).map((e) => e.name)).toEqual([
      'run-simulated--appointments-2',
      'run-simulated--appointments-3',
    ]);
    // 6,400 batches reach the Maps from manifests: the state stays small
    expect(run.meter.get('largest state payload')?.value).toBeLessThan(4_096);
    expect(run.meter.get('MapAppointments items')?.value).toBe(6_000);
  }, 300_000);

  it("keeps an execution's history the same size for a clinic ten times smaller: only the number of executions grows", async () => {
    const small = await simulateRun({ patients: 20_000, appointments: 300_000, recordsPerMinute: 200 });
    expect(small.failure).toBeUndefined();
    expect(small.executions.length).toBe(1);
    expect(small.executions[0]?.historyEvents).toBeLessThan(2_000);
  }, 300_000);

  it('fails the run with States.Runtime when an execution would outgrow its history (limit lowered for the test)', async () => {
    const run = await simulateRun({
      patients: 20_000,
      appointments: 300_000,
      recordsPerMinute: 200,
      limits: { historyEvents: 300 },
    });
    expect(run.failure?.error).toBe('States.Runtime');
    expect(run.executions.at(-1)?.status).toBe('FAILED');
  }, 300_000);
});
