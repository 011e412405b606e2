import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type HandlerThread, startHandlerThread } from '../../apps/local/handler-thread.js';

/** The local runner's mapper thread: a handler on a thread of its own, invoked as the handler. */
let thread: HandlerThread;
beforeAll(() => {
  process.env.HANDLER_THREAD_TEST = 'set before the thread started';
  thread = startHandlerThread('test/fixtures/handlers/busy-handler.ts', 'MapBatch');
});
afterAll(() => thread.stop());

describe('a handler on its own thread', () => {
  it("answers with the handler's output, run on another thread with the environment it started with", async () => {
    const output = (await thread.invoke({})) as { threadId: number; env?: string };
    expect(output.env).toBe('set before the thread started');
    expect(typeof output.threadId).toBe('number');
    expect(output.threadId).not.toBe(threadId);
  });

  it('gives back the error by its name and message (what Retry and Catch match)', async () => {
    const refused = await thread.invoke({ fail: 'BoundaryError' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(Error);
    expect(refused).toMatchObject({ name: 'BoundaryError', message: 'failed on purpose: BoundaryError' });
  });

  it('leaves this thread free while the handler holds its own', async () => {
    let ticks = 0;
    const timer = setInterval(() => {
      ticks += 1;
    }, 10);
    await thread.invoke({ spinMs: 600 });
    clearInterval(timer);
    // held on this thread, the 600 ms would have let no tick through
    expect(ticks).toBeGreaterThan(10);
  });
});
