import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { parseAt } from '../../src/core/boundary.js';
import { startRunEnvironment } from '../../src/core/environment.js';
import { log } from '../shared/runtime.js';
import { ObjectCreatedEvent } from './io.js';
import { runStartFor } from './start-run.js';

const sfn = new SFNClient({});

/** Starts the pipeline for an export (or approval marker) put in the bucket; a malformed event is refused. */
export const handler = async (received: unknown): Promise<{ started: boolean; name?: string }> => {
  const event = parseAt('StartRun event', ObjectCreatedEvent, received);
  const start = runStartFor({
    bucket: event.detail.bucket.name,
    key: decodeURIComponent(event.detail.object.key.replace(/\+/g, ' ')),
    ...(event.detail.object['version-id'] ? { versionId: event.detail.object['version-id'] } : {}),
    ...(event.detail.object.etag ? { etag: event.detail.object.etag } : {}),
    ...(event.detail.requester ? { requester: event.detail.requester } : {}),
  });
  if (!start) return { started: false };
  try {
    await sfn.send(
      new StartExecutionCommand({
        stateMachineArn: startRunEnvironment().stateMachineArn,
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
};
