import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { parseAt } from '../../src/core/boundary.js';

/** Where each of the local runner's threads starts (thread-entry.mjs registers tsx there). */
export const THREAD_ENTRY = new URL('./thread-entry.mjs', import.meta.url);

/**
 * One function's handler on a thread of its own, invoked like the handler itself. On AWS each
 * mapper is a Lambda of its own; run in the one thread that also hosts the writers, a mapper
 * rendering a patient's notes PDFs held every writer up (the event loop was busy all the time
 * for the 50 s a 2,000-patient export's notes took to render, and the writes fell to about 80%
 * of the combined rate limit). On its own thread it uses another core, as a Lambda would.
 *
 * The thread gets a copy of `process.env` as it is when the thread starts, so start it after the
 * handlers' environment is set. Errors come back with their `name` and `message` (what Step
 * Functions' Retry and Catch match on); the stack stays in the thread.
 */
export interface HandlerThread {
  invoke(input: unknown): Promise<unknown>;
  /** Ends the thread; invocations still under way are rejected. */
  stop(): Promise<void>;
}

/** What the thread answers for each invocation: its output, or the error it threw. */
const Reply = z.union([
  z.object({ id: z.number(), output: z.unknown() }),
  z.object({ id: z.number(), error: z.object({ name: z.string(), message: z.string() }) }),
]);

/** An error thrown by a handler on its thread, named as it was named there. */
export class ThreadedHandlerError extends Error {
  constructor(name: string, message: string) {
    super(message);
    this.name = name;
  }
}

/**
 * Starts a thread running the handler exported as `handler` by `handlerPath` (relative to the
 * repository root, as the stack's handler metadata names it), with a Lambda context named
 * `functionName`.
 */
export function startHandlerThread(handlerPath: string, functionName: string): HandlerThread {
  const worker = new Worker(THREAD_ENTRY, {
    // Given, not inherited: under a test runner `process.env` may be a copy the thread never sees.
    env: { ...process.env },
    workerData: {
      module: new URL('./handler-thread-serve.ts', import.meta.url).href,
      data: { handlerUrl: new URL(`../../${handlerPath}`, import.meta.url).href, functionName },
    },
  });
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  let next = 0;
  let stopped: Error | undefined;
  const failAll = (err: Error) => {
    stopped = err;
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  worker.on('message', (message: unknown) => {
    const reply = parseAt('handler thread reply', Reply, message);
    const p = pending.get(reply.id);
    pending.delete(reply.id);
    if (!p) return;
    if ('error' in reply) p.reject(new ThreadedHandlerError(reply.error.name, reply.error.message));
    else p.resolve(reply.output);
  });
  worker.on('error', (err) => failAll(err));
  worker.on('exit', (code) => failAll(new Error(`the ${functionName} thread stopped (exit ${code})`)));
  return {
    invoke: (input) =>
      new Promise((resolve, reject) => {
        if (stopped) return reject(stopped);
        const id = next++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, input });
      }),
    stop: async () => {
      await worker.terminate();
    },
  };
}
