import {
  ExecutionAlreadyExists,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import { dynamoClinicGate } from '../../src/adapters/aws/dynamo-clinic-gate.js';
import { StatusTable } from '../../src/adapters/aws/status-table.js';
import { parseAt } from '../../src/core/boundary.js';
import { startRunEnvironment } from '../../src/core/environment.js';
import { type ClinicGate, clinicBusyMessage, holdExpiresAt } from '../../src/ports/clinic-gate.js';
import { log } from '../shared/runtime.js';
import { ObjectCreatedEvent, RunStartMessages } from './io.js';
import { runStartFor } from './start-run.js';

const sfn = new SFNClient({});
/** The clinic gates, on the status table named by the environment: built once per container. */
let gate: ClinicGate | undefined;

/**
 * Every run slot of the stack is taken: the export's event stays in the run-start queue and is
 * looked at again after the queue's visibility timeout (lib/constructs/state-machine.ts).
 */
export class RunsAtCapacity extends Error {
  override name = 'RunsAtCapacity';
}

/**
 * The clinic is held by another run (issue 23: one run per clinic at a time): the export's event
 * stays in the run-start queue, as for {@link RunsAtCapacity}, and starts once the holder's Report
 * gives the clinic back (or its hold expires). After RUN_START_RETRY's looks (about ten days) it
 * is kept in the StartRunDeadLetters queue, never dropped.
 */
export class ClinicBusy extends Error {
  override name = 'ClinicBusy';
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
 *
 * One run per clinic (issue 23): before starting, the run takes its clinic's gate
 * (src/ports/clinic-gate.ts) by a conditional write on the status table, race-free where a
 * ListExecutions check would not be (eventually consistent, and a run's later executions are not
 * named by clinic). A clinic held by another run throws {@link ClinicBusy}: the export is not
 * lost but waits in the run-start queue (its log line, `run waits: clinic busy`, names the run
 * that waits and the run that holds the clinic). The run's steps renew the hold
 * (lambdas/shared/lease.ts `keepLease`) and Report gives it back; a crashed run's hold expires.
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
  gate ??= dynamoClinicGate(new StatusTable(env.statusTable));
  const clinicId = start.input.clinicId;
  const now = Date.now();
  const take = await gate.take(
    {
      clinicId,
      runId: start.name,
      mode: start.input.mode,
      exportKey: start.input.approvalKey || start.input.key,
      takenAt: new Date(now).toISOString(),
      expiresAt: holdExpiresAt(now),
    },
    now,
  );
  if (!take.taken) {
    log.info('run waits: clinic busy', { runId: start.name, clinicId, heldBy: take.holder.runId });
    throw new ClinicBusy(clinicBusyMessage(start.name, take.holder));
  }
  try {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: env.stateMachineArn,
        name: start.name,
        input: JSON.stringify(start.input),
      }),
    );
    log.info('run started', { runId: start.name, clinicId });
    return { started: true, name: start.name };
  } catch (err) {
    // A hold this event took afresh is given back when no run came of it: the execution had run
    // (and ended, releasing the clinic) before this duplicate, or it could not start. A hold the
    // run had already is its own, live run's.
    if (take.fresh) await gate.release(clinicId, start.name);
    if (err instanceof ExecutionAlreadyExists) {
      log.info('duplicate event: run already started', { runId: start.name });
      return { started: false, name: start.name };
    }
    throw err;
  }
}
