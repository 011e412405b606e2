// The thread of apps/local/handler-thread.ts. Plain JavaScript, because a new thread has no
// TypeScript loader until tsx registers one here (hooks registered in the parent do not reach it).
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { serve } = await import('./handler-thread-serve.ts');
await serve(parentPort, workerData);
