import { logger, runtime } from '../shared/runtime.js';
import { type MapBatchInput, type MapBatchOutput, mapBatch } from './map-batch.js';

export const handler = async (event: MapBatchInput): Promise<MapBatchOutput> => {
  const rt = runtime();
  const out = await mapBatch(event, { ...rt, queue: rt.queue() });
  logger.info('mapped batch', { runId: event.runId, batch: event.batchKey, enqueued: out.enqueued });
  return out;
};
