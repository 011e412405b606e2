import { log, runtime } from '../shared/runtime.js';
import { type MapBatchInput, type MapBatchOutput, mapBatch } from './map-batch.js';

export const handler = async (event: MapBatchInput): Promise<MapBatchOutput> => {
  const rt = runtime();
  const out = await mapBatch(event, { ...rt, queue: rt.queue() });
  log.info('mapped batch', { runId: event.runId, batchKey: event.batchKey, enqueued: out.enqueued });
  return out;
};
