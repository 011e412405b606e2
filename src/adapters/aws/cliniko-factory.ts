import { createHash } from 'node:crypto';
import { parseApiKey } from '../../cliniko/api-key.js';
import { ClinikoClient } from '../../cliniko/client.js';
import { RateLimiter, type TokenBucketStore } from '../../cliniko/rate-limiter.js';
import { ENV } from '../../core/environment.js';
import type { ClinikoCredentials } from '../../ports/secrets.js';

/**
 * Cliniko clients for a Lambda: one per key, each behind the shared token bucket of its user, and
 * one that waits at most CLINIKO_MAX_TOKEN_WAIT_MS for a token (a writer defers rather than sleeps).
 */
export function clinikoFactory(store: TokenBucketStore, options: { maxTokenWaitMs?: number } = {}) {
  const clients = new Map<string, ClinikoClient>();
  const limit = Number(process.env[ENV.rateLimitPerMinute] ?? 200);
  const windowMs = Number(process.env[ENV.rateLimitWindowMs] ?? 60_000);
  const fraction = Number(process.env[ENV.rateLimitFraction] ?? 0.96);
  const maxWait =
    options.maxTokenWaitMs ?? Number(process.env[ENV.maxTokenWaitMs] ?? Number.POSITIVE_INFINITY);
  return (credentials: ClinikoCredentials, keyIndex: number, userId?: string): ClinikoClient => {
    const apiKey = credentials.apiKeys[keyIndex % credentials.apiKeys.length] ?? '';
    const keyHash = createHash('sha256').update(apiKey).digest('hex').slice(0, 16);
    const cacheKey = `${keyHash}|${credentials.baseUrl ?? ''}`;
    let client = clients.get(cacheKey);
    if (!client) {
      const parsed = parseApiKey(apiKey);
      // One bucket per Cliniko user (keys of one user share its limit); per key until the user is known.
      const bucketId = userId ? `user:${parsed.shard}:${userId}` : `key:${keyHash}`;
      const limiter = new RateLimiter(store, bucketId, { limit, windowMs, fraction });
      client = new ClinikoClient({
        apiKey,
        ...(credentials.userAgent ? { userAgent: credentials.userAgent } : {}),
        ...(credentials.baseUrl ? { baseUrl: credentials.baseUrl } : {}),
        limiter: {
          acquire: () => limiter.acquire(maxWait),
          pauseUntil: (ms) => limiter.pauseUntil(ms),
          peek: () => limiter.peek(),
        },
        retry: {
          ...(process.env[ENV.clinikoMaxAttempts]
            ? { maxAttempts: Number(process.env[ENV.clinikoMaxAttempts]) }
            : {}),
          ...(process.env[ENV.clinikoRetryBaseMs]
            ? {
                baseDelayMs: Number(process.env[ENV.clinikoRetryBaseMs]),
                maxDelayMs: Number(process.env[ENV.clinikoRetryBaseMs]) * 8,
              }
            : {}),
        },
      });
      clients.set(cacheKey, client);
    }
    return client;
  };
}
