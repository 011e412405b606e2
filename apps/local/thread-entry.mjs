// The start of every thread the local runner makes (handler-thread.ts, emulators.ts). Plain
// JavaScript, because a new thread has no TypeScript loader until tsx registers one here (hooks
// registered in the parent do not reach it); then the module named in workerData serves.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { serve } = await import(workerData.module);
await serve(parentPort, workerData.data);
