import type { SandboxOptions } from '../apps/sandbox/options.js';
import { startSandbox } from '../apps/sandbox/server.js';

/**
 * The sandbox in a process of its own, as Cliniko is a server of its own: what it spends answering
 * is not taken from the pipeline being measured. Started by `sandboxProcess` (keys bench) with its
 * options on IPC; answers `{ baseUrl }`, and on `close` its request counts (every status, and 429s).
 */
type Start = { readonly options: Omit<SandboxOptions, 'observe'> };
process.once('message', async (message: Start) => {
  let requests = 0;
  let limited = 0;
  const sandbox = await startSandbox({
    ...message.options,
    observe: (_m, _p, status) => {
      requests++;
      if (status === 429) limited++;
    },
  });
  process.on('message', async (m: unknown) => {
    if (m !== 'close') return;
    await sandbox.close();
    process.send?.({ requests, limited }, () => process.exit(0));
  });
  process.send?.({ baseUrl: sandbox.baseUrl });
});
