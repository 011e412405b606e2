import { keepLease } from '../shared/lease.js';
import { log, runtime } from '../shared/runtime.js';
import { stepHandler } from '../shared/step.js';
import { MapBatchInput, MapBatchOutput } from './io.js';
import { mapBatch } from './map-batch.js';

export const handler = stepHandler(
  'MapBatch',
  { input: MapBatchInput, output: MapBatchOutput },
  async (event) => {
    const rt = runtime();
    await keepLease(event.runId);
    const out = await mapBatch(event, { ...rt, queue: rt.queue() });
    log.info('mapped batch', { runId: event.runId, batchKey: event.batchKey, enqueued: out.enqueued });
    return out;
  },
);
