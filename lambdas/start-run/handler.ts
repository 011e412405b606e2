import {
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { parseAt } from '../../src/core/boundary.js';
import { startRunEnvironment } from '../../src/core/environment.js';
import { log } from '../shared/runtime.js';
import { ObjectCreatedEvent, RunStartMessages } from './io.js';
import { runStartFor } from './start-run.js';

const sfn = new SFNClient({});

/**
 * Every run slot of the stack is taken: the export's event stays in the run-start queue and is
 * looked at again after the queue's visibility timeout (lib/constructs/state-machine.ts).
 */
export class RunsAtCapacity extends Error {
  override name = 'RunsAtCapacity';
}

/** Whether `max` executions of the state machine are running (ListExecutions, RUNNING). */
async function atCapacity(stateMachineArn: string, max: number): Promise<boolean> {
  const res = await sfn.send(
    new ListExecutionsCommand({ stateMachineArn, statusFilter: 'RUNNING', maxResults: max }),
  );
  return (res.executions?.length ?? 0) >= max;
}

/**
 * Starts the pipeline for an export (or approval marker) put in the bucket. The EventBridge event
 * arrives in an SQS message of the run-start queue (or, from older rules, directly); a malformed
 * one is refused. With every run slot taken, throws {@link RunsAtCapacity} so the message comes
 * back later: the run waits instead of starting and failing on throttling.
 */
export const handler = async (received: unknown): Promise<{ started: boolean; name?: string }> => {
  const queued = RunStartMessages.safeParse(received);
  const bodies = queued.success ? queued.data.Records.map((r) => JSON.parse(r.body) as unknown) : [received];
  let last: { started: boolean; name?: string } = { started: false };
  for (const body of bodies) last = await startOne(body);
  return last;
};

async function startOne(received: unknown): Promise<{ started: boolean; name?: string }> {
  const event = parseAt('StartRun event', ObjectCreatedEvent, received);
  const start = runStartFor({
    bucket: event.detail.bucket.name,
    key: decodeURIComponent(event.detail.object.key.replace(/\+/g, ' ')),
    ...(event.detail.object['version-id'] ? { versionId: event.detail.object['version-id'] } : {}),
    ...(event.detail.object.etag ? { etag: event.detail.object.etag } : {}),
    ...(event.detail.requester ? { requester: event.detail.requester } : {}),
  });
  if (!start) return { started: false };
  const env = startRunEnvironment();
  if (await atCapacity(env.stateMachineArn, env.maxConcurrentRuns)) {
    log.info('run waits for a free slot', { runId: start.name, clinicId: start.input.clinicId });
    throw new RunsAtCapacity(
      `${env.maxConcurrentRuns} runs are under way; ${start.name} waits for one to end`,
    );
  }
  try {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: env.stateMachineArn,
        name: start.name,
        input: JSON.stringify(start.input),
      }),
    );
    log.info('run started', { runId: start.name, clinicId: start.input.clinicId });
    return { started: true, name: start.name };
  } catch (err) {
    if (err instanceof ExecutionAlreadyExists) {
      log.info('duplicate event: run already started', { runId: start.name });
      return { started: false, name: start.name };
    }
    throw err;
  }
}
