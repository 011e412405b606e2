import type { FastifyInstance, FastifyReply } from 'fastify';
import type { FaultSpec } from './faults.js';
import type { FixedWindowLimiter } from './fixed-window.js';
import type { SandboxOptions } from './options.js';
import { keyBody } from './seed.js';
import type { SandboxState } from './state.js';

const UA_PATTERN = /\(\s*[^\s@()]+@[^\s@()]+\.[^\s@()]+\s*\)/;
const WRITE_METHODS = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** What the guard checks a request against. */
export interface Guard {
  readonly state: SandboxState;
  readonly options: SandboxOptions;
  readonly limiter: FixedWindowLimiter;
  /** The faults in force now (tests switch them while the server runs). */
  readonly faults: () => FaultSpec;
  /** The seeded generator that decides which requests a fault hits. */
  readonly random: () => number;
}

/**
 * Installs what stands before every API route, in Cliniko's order (Cliniko's API documentation on
 * authentication, required headers and rate limits): injected latency, Basic auth (401), a
 * `User-Agent` with a contact address (403 or 400), the per-user rate limit (429), injected 429s
 * and 5xx, and marks writes whose answer a fault drops. Also the `observe` and `alwaysFail` hooks
 * of the options.
 */
export function installGuard(api: FastifyInstance, guard: Guard): void {
  const { state, options, limiter, random } = guard;
  const shard = (options.shard ?? 'au1').toLowerCase();
  api.addHook('onRequest', async (req, reply) => {
    const faults = guard.faults();
    if (faults.latencyMs > 0) await new Promise((r) => setTimeout(r, faults.latencyMs));
    const userId = authenticate(state, shard, req.headers.authorization);
    if (!userId) {
      return reply
        .code(401)
        .header('Content-Type', 'text/plain; charset=utf-8')
        .send('HTTP Basic: Access denied.');
    }
    const ua = req.headers['user-agent'];
    if (!ua || !UA_PATTERN.test(ua)) {
      return reply.code(options.userAgentStatus ?? 403).send({ message: 'Requires a user agent' });
    }
    const now = Date.now();
    const resetAt = limiter.hit(userId, now);
    if (resetAt !== undefined) return tooMany(reply, resetAt, options.retryAfterHeader);
    if (faults.rateLimited > 0 && random() < faults.rateLimited) {
      return tooMany(reply, now + (options.injected429ResetMs ?? 1000), options.retryAfterHeader);
    }
    if (faults.serverError > 0 && random() < faults.serverError) {
      const status = [500, 502, 503, 504][Math.floor(random() * 4)] ?? 500;
      return reply.code(status).send({ message: 'Injected server error' });
    }
    req.ctx = {
      userId,
      drop: WRITE_METHODS.has(req.method) && faults.dropAfterCommit > 0 && random() < faults.dropAfterCommit,
    };
  });

  if (options.observe) {
    const observe = options.observe;
    api.addHook('onResponse', async (req, reply) =>
      observe(req.method, req.url.split('?')[0] ?? '', reply.statusCode, Date.now()),
    );
  }

  if (options.alwaysFail) {
    const alwaysFail = options.alwaysFail;
    api.addHook('preHandler', async (req, reply) => {
      const fail = alwaysFail(req.method, req.url.split('?')[0] ?? '', req.body);
      if (fail === 502 || fail === 504) return reply.code(fail).send({ message: 'Gateway error' });
      if (fail) return reply.code(503).send({ message: 'Service Unavailable' });
    });
  }
}

/**
 * The user id of a Basic-auth API key (Cliniko's API documentation on authentication), or
 * `undefined` (a 401): a key whose shard suffix is not this sandbox's shard is refused, as a key
 * sent to the wrong shard is.
 */
function authenticate(state: SandboxState, shard: string, header: string | undefined): string | undefined {
  if (!header?.startsWith('Basic ')) return undefined;
  const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  const key = colon === -1 ? decoded : decoded.slice(0, colon);
  const dash = key.lastIndexOf('-');
  const suffix = dash > 0 ? key.slice(dash + 1) : '';
  if (/^[a-z]{2}\d{1,2}$/i.test(suffix) && suffix.toLowerCase() !== shard) return undefined;
  if (!/^[a-z]{2}\d{1,2}$/i.test(suffix) && shard !== 'au1' && !state.apiKeys.has(key)) return undefined;
  return state.apiKeys.get(keyBody(key));
}

/**
 * Cliniko's 429: `X-RateLimit-Reset` in epoch seconds (Cliniko's API documentation on rate limits);
 * `Retry-After` when asked.
 */
function tooMany(reply: FastifyReply, resetAtMs: number, retryAfterHeader: boolean | undefined) {
  const resetSeconds = Math.ceil(resetAtMs / 1000);
  reply.code(429).header('X-RateLimit-Reset', String(resetSeconds));
  if (retryAfterHeader)
    reply.header('Retry-After', String(Math.max(0, resetSeconds - Math.floor(Date.now() / 1000))));
  return reply.send({ message: 'Too Many Requests' });
}
