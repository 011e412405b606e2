import type { MessagePort } from 'node:worker_threads';
import { interceptLocalhostDns } from 'fauxqs';
import { z } from 'zod';
import { parseAt } from '../../src/core/boundary.js';
import type { Handler } from './run-local-types.js';
import { lambdaContext } from './sqs-poller.js';

const Setup = z.object({
  handlerUrl: z.string(),
  functionName: z.string(),
  limits: z.object({ timeoutSeconds: z.number(), memoryMb: z.number() }).optional(),
});
const Invocation = z.object({ id: z.number(), input: z.unknown() });

/**
 * Inside the thread: loads the handler, then answers each invocation with its output or error.
 * Invocations run concurrently, as several Map iterations call one function at once.
 */
export async function serve(port: MessagePort | null, data: unknown): Promise<void> {
  if (!port) throw new Error('handler-thread-serve runs only as a worker thread');
  const setup = parseAt('handler thread setup', Setup, data);
  // fauxqs answers with queue URLs on sqs.<region>.localhost: this thread resolves them too.
  interceptLocalhostDns();
  const mod = (await import(setup.handlerUrl)) as { handler: Handler };
  port.on('message', (message: unknown) => {
    const { id, input } = parseAt('handler thread invocation', Invocation, message);
    mod.handler(input, lambdaContext(setup.functionName, setup.limits)).then(
      (output) => port.postMessage({ id, output }),
      (err: unknown) =>
        port.postMessage({
          id,
          error: {
            name: err instanceof Error ? err.name : 'Error',
            message: err instanceof Error ? err.message : String(err),
          },
        }),
    );
  });
}
