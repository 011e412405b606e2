import { Logger } from '@aws-lambda-powertools/logger';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clinikoFactory } from '../../src/adapters/aws/cliniko-factory.js';
import { DynamoBucketStore } from '../../src/adapters/aws/dynamo-bucket-store.js';
import { dynamoClinicGate } from '../../src/adapters/aws/dynamo-clinic-gate.js';
import { dynamoStatusStore } from '../../src/adapters/aws/dynamo-status-store.js';
import { S3BlobStore } from '../../src/adapters/aws/s3-blob-store.js';
import { SecretsManagerSource } from '../../src/adapters/aws/secrets-source.js';
import { SqsCommandQueue } from '../../src/adapters/aws/sqs-command-queue.js';
import { StatusTable } from '../../src/adapters/aws/status-table.js';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import { InMemoryBucketStore } from '../../src/cliniko/rate-limiter.js';
import { ENV, lambdaEnvironment } from '../../src/core/environment.js';
import { loadProfile } from '../../src/source/profile.js';
import { safeLog } from './safe-log.js';

/**
 * What every handler wires in, built once per container at cold start from validated
 * environment variables. Logs are structured JSON and carry ids, counts and codes only.
 */
export const logger = new Logger({ serviceName: 'cliniko-migrate' });
/** What handlers log through: ids, counts and codes only (see safe-log.ts). */
export const log = safeLog(logger);

/**
 * Lifetime: the container's (resetRuntime ends it in a local run). Holds clients and settings,
 * never a run's data: what a handler keeps per run is keyed by run in its own cache (the
 * writer's: lambdas/write/caches.ts), and secrets expire (SecretsManagerSource's maximum age).
 */
let cached: ReturnType<typeof build> | undefined;

function build() {
  const env = lambdaEnvironment();
  const dynamo = new DynamoDBClient({});
  const blobs = new S3BlobStore();
  return {
    env,
    store: dynamoStatusStore(env.statusTable, dynamo, env.auditRetentionDays),
    /** One run per clinic (issue 23): StartRun takes the gate, the steps renew it, Report releases it. */
    gate: dynamoClinicGate(new StatusTable(env.statusTable, dynamo, env.auditRetentionDays)),
    // In one process (a local run) the buckets need no round trip: every writer is right here.
    buckets:
      env.rateLimitStore === 'process'
        ? new InMemoryBucketStore()
        : new DynamoBucketStore(env.statusTable, dynamo),
    blobs,
    // kept at most the stated age, and dropped on a 401 (a rotated key reaches a warm container)
    secrets: new SecretsManagerSource(env.secretPrefix, undefined, {
      maxAgeMs: env.secretMaxAgeSeconds * 1000,
    }),
    queue: () => {
      if (!env.writeQueueUrl) throw new Error(`environment variable ${ENV.writeQueueUrl} is not set`);
      return new SqsCommandQueue(
        env.writeQueueUrl,
        undefined,
        env.bucket ? { bucket: env.bucket, blobs } : undefined,
      );
    },
    profile: loadProfile('gensolve'),
    now: () => new Date(),
  };
}

/**
 * Cliniko refused a key (401) in a step that does not say which clinic's: every kept secret is
 * dropped, so a key rotated since it was read is used by the next attempt rather than after the
 * secrets' maximum age. Builds nothing when the container has not built its runtime.
 */
export function forgetSecrets(): void {
  cached?.secrets.forgetAll();
}

export function runtime() {
  cached ??= build();
  return cached;
}

/**
 * Forgets what cold start built. On AWS a container never sees a second environment; the local
 * runner starts fresh emulators for each run and calls this so no client keeps an old endpoint.
 */
export function resetRuntime(): void {
  cached = undefined;
  // the logger was built at import, before the runner chose a level
  logger.setLogLevel(
    (process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO') as Parameters<typeof logger.setLogLevel>[0],
  );
  for (const reset of resetHooks) reset();
}

const resetHooks: (() => void)[] = [];

/** Registers a handler's own cold-start cache to be cleared with the runtime. */
export function onRuntimeReset(reset: () => void): void {
  resetHooks.push(reset);
}

export function clinikoFor(options: { maxTokenWaitMs?: number } = {}) {
  const rt = runtime();
  return clinikoFactory(rt.buckets, rt.env, options);
}

/** Adds what a client sent since the last call to the run's request counts. */
export async function flushRequests(
  runId: string,
  clients: Iterable<ClinikoClient>,
  seen: Map<ClinikoClient, Record<string, number>>,
): Promise<void> {
  const delta: Record<string, number> = {};
  for (const client of clients) {
    const now = client.counter.byStatus();
    const before = seen.get(client) ?? {};
    for (const [status, n] of Object.entries(now))
      delta[status] = (delta[status] ?? 0) + n - (before[status] ?? 0);
    seen.set(client, now);
  }
  await runtime().store.addRequests(runId, delta);
}
