import { statSync } from 'node:fs';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import type { SandboxContext } from './context.js';
import { type FaultSpec, NO_FAULTS, seededRandom } from './faults.js';
import { FixedWindowLimiter } from './fixed-window.js';
import { installGuard } from './guard.js';
import type { SandboxOptions } from './options.js';
import { appointmentRoutes } from './routes/appointments.js';
import { attachmentRoutes } from './routes/attachments.js';
import { resourceRoutes } from './routes/generic.js';
import { listRecords } from './routes/listing.js';
import { patientRoutes } from './routes/patients.js';
import { userRoutes } from './routes/users.js';
import { applySeed, defaultSeed } from './seed.js';
import { SandboxState } from './state.js';
import { registerStorage, UploadStorage } from './storage.js';

export type { SandboxOptions } from './options.js';

export interface Sandbox {
  readonly url: string;
  /** `http://127.0.0.1:port/v1`: what CLINIKO_BASE_URL points at. */
  readonly baseUrl: string;
  readonly state: SandboxState;
  /** Change faults while the server runs (tests switch them on and off). */
  faults: FaultSpec;
  readonly limiter: FixedWindowLimiter;
  readonly app: FastifyInstance;
  close(): Promise<void>;
}

/**
 * Starts the Cliniko sandbox: an HTTP server faithful to Cliniko's API documentation and
 * contract/cliniko-openapi.yaml, so the same client works against it and real Cliniko. It assembles
 * the guard (guard.ts: auth, user agent, rate limit, faults), the API routes under `/v1`
 * (routes/*.ts, per resource) and the S3-style storage of the attachment flow (storage.ts). State
 * is seeded (or loaded from `options.stateFile` and saved there on change); `port` 0 picks a free
 * port.
 */
export async function startSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  const state = new SandboxState();
  if (options.stateFile && fileExists(options.stateFile)) state.load(options.stateFile);
  else applySeed(state, options.seed ?? defaultSeed());

  const limiter = new FixedWindowLimiter(options.rateLimit ?? 200, options.rateWindowMs ?? 60_000);
  const random = seededRandom(options.faultSeed ?? 1);
  const storage = new UploadStorage(options.maxAttachmentBytes ?? 2 * 1024 ** 3);
  const timers = new Set<NodeJS.Timeout>();
  let saveTimer: NodeJS.Timeout | undefined;

  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 16 * 1024 * 1024 });
  const sandbox: Sandbox = {
    url: '',
    baseUrl: '',
    state,
    faults: { ...(options.faults ?? NO_FAULTS) },
    limiter,
    app,
    close: async () => {
      for (const t of timers) clearTimeout(t);
      if (saveTimer) clearTimeout(saveTimer);
      if (options.stateFile) state.save(options.stateFile);
      await app.close();
      storage.remove();
    },
  };

  const changed = () => {
    if (!options.stateFile || saveTimer) return;
    saveTimer = setTimeout(() => {
      saveTimer = undefined;
      if (options.stateFile) state.save(options.stateFile);
    }, 200);
  };

  const ctx: SandboxContext = {
    state,
    options,
    storage,
    changed,
    later: (fn, ms) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        fn();
      }, ms);
      timers.add(timer);
    },
    commit: (req: FastifyRequest, reply: FastifyReply, status: number, body?: unknown) => {
      changed();
      if (req.ctx.drop) {
        // Saved, but the client never hears so: the connection is cut before any answer.
        reply.hijack();
        req.raw.socket.destroy();
        return reply;
      }
      return body === undefined ? reply.code(status).send() : reply.code(status).send(body);
    },
    list: (req, reply, spec, records) => listRecords(options, req, reply, spec, records),
  };

  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ message: 'Not found' }));
  app.setErrorHandler((error: Error & { statusCode?: number }, _req, reply) => {
    const status = error.statusCode && error.statusCode >= 400 ? error.statusCode : 500;
    return reply.code(status).send({ message: status === 500 ? 'Internal Server Error' : error.message });
  });

  // ---- the API, under /v1 --------------------------------------------------------------
  await app.register(
    async (api) => {
      api.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, body, done) => {
        try {
          done(null, body === '' ? {} : JSON.parse(body as string));
        } catch {
          done(Object.assign(new Error('Body is not valid JSON'), { statusCode: 400 }));
        }
      });
      installGuard(api, { state, options, limiter, random, faults: () => sandbox.faults });
      userRoutes(api, ctx);
      patientRoutes(api, ctx);
      attachmentRoutes(api, ctx);
      appointmentRoutes(api, ctx);
      resourceRoutes(api, ctx);
    },
    { prefix: '/v1' },
  );

  // ---- S3-style storage for the attachment flow (no Cliniko auth, as with real S3) -------
  await registerStorage(app, storage);

  const address = await app.listen({ port: options.port ?? 0, host: options.host ?? '127.0.0.1' });
  const url = address.replace('localhost', '127.0.0.1');
  Object.assign(sandbox, { url, baseUrl: `${url}/v1` });
  return sandbox;
}

function fileExists(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
