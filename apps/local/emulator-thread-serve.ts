import type { Server } from 'node:http';
import type { MessagePort } from 'node:worker_threads';
import dynalite from 'dynalite';
import { startFauxqs } from 'fauxqs';
import { z } from 'zod';
import { parseAt } from '../../src/core/boundary.js';
import { listen, onLoopback } from './emulators.js';

const Setup = z.object({ statePath: z.string().optional() });

/**
 * Inside the emulators' thread (emulators.ts): starts dynalite (DynamoDB) and fauxqs (S3, SQS),
 * answers with their ports, and stops them when asked (answering once they have).
 */
export async function serve(port: MessagePort | null, data: unknown): Promise<void> {
  if (!port) throw new Error('emulator-thread-serve runs only as a worker thread');
  const { statePath } = parseAt('emulators thread setup', Setup, data);
  const dynamo = dynalite({
    createTableMs: 0,
    deleteTableMs: 0,
    updateTableMs: 0,
    ...(statePath ? { path: statePath } : {}),
  }) as Server;
  const dynamoPort = await listen(dynamo);
  const fauxqs = await onLoopback(() => startFauxqs({ port: 0, logger: false, defaultRegion: 'us-east-1' }));
  port.once('message', async () => {
    await fauxqs.stop();
    await new Promise<void>((r) => dynamo.close(() => r()));
    port.postMessage('stopped');
    port.close();
  });
  port.postMessage({ dynamoPort, fauxqsPort: fauxqs.port });
}
