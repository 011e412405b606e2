import { Worker } from 'node:worker_threads';
import { z } from 'zod';
import { LAMBDA_ERRORS } from '../../src/core/aws-limits.js';
import { parseAt } from '../../src/core/boundary.js';
import { type FunctionLimits, LambdaLimitError } from './function-limits.js';

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
 * `functionName`. With `limits`, the thread's heap is held to the function's MemorySize (V8's
 * old generation, `resourceLimits.maxOldGenerationSizeMb`): a handler that outgrows it fails every
 * invocation under way with `Runtime.OutOfMemory`, as Lambda fails one whose sandbox ran out, and
 * a fresh thread takes the next (Lambda starts a new sandbox). The thread hosts the function's
 * concurrent invocations together, so the bound is stricter than AWS's one sandbox per invocation.
 */
export function startHandlerThread(
  handlerPath: string,
  functionName: string,
  limits?: FunctionLimits,
): HandlerThread {
  const pending = new Map<number, { resolve(v: unknown): void; reject(e: unknown): void }>();
  let next = 0;
  let stopped: Error | undefined;
  let stopping = false;
  const failAll = (err: Error) => {
    for (const p of pending.values()) p.reject(err);
    pending.clear();
  };
  const spawn = (): Worker => {
    const w = new Worker(THREAD_ENTRY, {
      // Given, not inherited: under a test runner `process.env` may be a copy the thread never sees.
      env: { ...process.env },
      workerData: {
        module: new URL('./handler-thread-serve.ts', import.meta.url).href,
        data: {
          handlerUrl: new URL(`../../${handlerPath}`, import.meta.url).href,
          functionName,
          ...(limits ? { limits } : {}),
        },
      },
      ...(limits ? { resourceLimits: { maxOldGenerationSizeMb: limits.memoryMb } } : {}),
    });
    w.on('message', (message: unknown) => {
      const reply = parseAt('handler thread reply', Reply, message);
      const p = pending.get(reply.id);
      pending.delete(reply.id);
      if (!p) return;
      if ('error' in reply) p.reject(new ThreadedHandlerError(reply.error.name, reply.error.message));
      else p.resolve(reply.output);
    });
    w.on('error', (err) => {
      if ((err as { code?: string }).code === 'ERR_WORKER_OUT_OF_MEMORY' && !stopping) {
        failAll(
          new LambdaLimitError(
            LAMBDA_ERRORS.outOfMemory,
            `${functionName} ran out of its ${limits?.memoryMb ?? '?'} MB (Runtime exited: out of memory)`,
          ),
        );
        worker = spawn();
        return;
      }
      stopped = err;
      failAll(err);
    });
    w.on('exit', (code) => {
      if (w !== worker) return;
      stopped = new Error(`the ${functionName} thread stopped (exit ${code})`);
      failAll(stopped);
    });
    return w;
  };
  let worker = spawn();
  return {
    invoke: (input) =>
      new Promise((resolve, reject) => {
        if (stopped) return reject(stopped);
        const id = next++;
        pending.set(id, { resolve, reject });
        worker.postMessage({ id, input });
      }),
    stop: async () => {
      stopping = true;
      await worker.terminate();
    },
  };
}
