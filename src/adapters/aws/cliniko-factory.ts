import { createHash } from 'node:crypto';
import { parseApiKey } from '../../cliniko/api-key.js';
import { ClinikoClient } from '../../cliniko/client.js';
import { RateLimiter, type TokenBucketStore } from '../../cliniko/rate-limiter.js';
import type { LambdaEnvironment } from '../../core/environment.js';
import type { ClinikoCredentials } from '../../ports/secrets.js';

/**
 * The token bucket of a Cliniko user (`userId`, of the account on `shard`): every key of the user
 * shares it, as Cliniko's rate limit is per user (Cliniko's API documentation: rate limiting).
 */
export const userBucketId = (shard: string, userId: string): string => `user:${shard}:${userId}`;

/**
 * Cliniko clients for a Lambda: one per key, each behind the shared token bucket of its user, and
 * one that waits at most CLINIKO_MAX_TOKEN_WAIT_MS for a token (a writer defers rather than sleeps).
 * `env`: the parsed Lambda environment (rate limit per minute, window and share in ms; retries).
 * `options.maxTokenWaitMs` overrides the environment's wait (milliseconds).
 * Lifetime: the clients live as long as the function returned here, which the caller keeps: the
 * writer for its container (lambdas/write/caches.ts), the other steps for an invocation. A client
 * holds no run's data (its rate limit lives in `store`); a rotated key is a new key, so a new client.
 */
export function clinikoFactory(
  store: TokenBucketStore,
  env: Pick<
    LambdaEnvironment,
    | 'rateLimitPerMinute'
    | 'rateLimitWindowMs'
    | 'rateLimitFraction'
    | 'maxTokenWaitMs'
    | 'clinikoMaxAttempts'
    | 'clinikoRetryBaseMs'
  >,
  options: { maxTokenWaitMs?: number } = {},
) {
  const clients = new Map<string, ClinikoClient>();
  const limit = env.rateLimitPerMinute;
  const windowMs = env.rateLimitWindowMs;
  const fraction = env.rateLimitFraction;
  const maxWait = options.maxTokenWaitMs ?? env.maxTokenWaitMs ?? Number.POSITIVE_INFINITY;
  const retryBaseMs = env.clinikoRetryBaseMs;
  return (credentials: ClinikoCredentials, keyIndex: number, userId?: string): ClinikoClient => {
    const apiKey = credentials.apiKeys[keyIndex % credentials.apiKeys.length] ?? '';
    const keyHash = createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
    const cacheKey = `${keyHash}|${credentials.baseUrl ?? ''}`;
    let client = clients.get(cacheKey);
    if (!client) {
      const parsed = parseApiKey(apiKey);
      // One bucket per Cliniko user (keys of one user share its limit); per key until the user is known.
      const bucketId = userId ? userBucketId(parsed.shard, userId) : `key:${keyHash}`;
      const limiter = new RateLimiter(store, bucketId, { limit, windowMs, fraction });
      client = new ClinikoClient({
        apiKey,
        ...(credentials.userAgent ? { userAgent: credentials.userAgent } : {}),
        ...(credentials.baseUrl ? { baseUrl: credentials.baseUrl } : {}),
        limiter: {
          acquire: () => limiter.acquire(maxWait),
          pauseUntil: (ms) => limiter.pauseUntil(ms),
          peek: () => limiter.peek(),
          answered: () => limiter.answered(),
        },
        retry: {
          ...(env.clinikoMaxAttempts ? { maxAttempts: env.clinikoMaxAttempts } : {}),
          ...(retryBaseMs ? { baseDelayMs: retryBaseMs, maxDelayMs: retryBaseMs * 8 } : {}),
        },
      });
      clients.set(cacheKey, client);
    }
    return client;
  };
}
