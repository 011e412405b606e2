import { z } from 'zod';
import { parseAt } from './boundary.js';

/**
 * Environment variable names, shared by the CDK constructs that set them and the handlers that
 * read them, so the two cannot drift apart.
 */
export const ENV = {
  statusTable: 'STATUS_TABLE',
  bucket: 'EXPORT_BUCKET',
  writeQueueUrl: 'WRITE_QUEUE_URL',
  secretPrefix: 'CLINIKO_SECRET_PREFIX',
  stateMachineArn: 'STATE_MACHINE_ARN',
  /** Runs at once in the stack: StartRun leaves a further export waiting until one ends. */
  maxConcurrentRuns: 'MAX_CONCURRENT_RUNS',
  rateLimitFraction: 'CLINIKO_RATE_LIMIT_FRACTION',
  rateLimitPerMinute: 'CLINIKO_RATE_LIMIT_PER_MINUTE',
  rateLimitWindowMs: 'CLINIKO_RATE_LIMIT_WINDOW_MS',
  /** Longest a writer may wait for a token before it hands the message back for later. */
  maxTokenWaitMs: 'CLINIKO_MAX_TOKEN_WAIT_MS',
  batchSize: 'PLAN_BATCH_SIZE',
  /** Client retries of transient failures (attempts, first backoff): tests and local runs shorten them. */
  clinikoMaxAttempts: 'CLINIKO_MAX_ATTEMPTS',
  clinikoRetryBaseMs: 'CLINIKO_RETRY_BASE_MS',
  /** Days the status table keeps runs, outcomes and the id map (the audit trail). */
  auditRetentionDays: 'AUDIT_RETENTION_DAYS',
  /**
   * Where the per-user token buckets live: `dynamodb` (the default: concurrent Lambdas share them
   * through the status table) or `process` (one process hosts every writer, as a local run does).
   */
  rateLimitStore: 'CLINIKO_RATE_LIMIT_STORE',
  /** Seconds before a failed write message comes back the first time (doubled at each receive). */
  writeRetryBaseSeconds: 'WRITE_RETRY_BASE_SECONDS',
  /** Where the pipeline runs (`AWS <stack>`, or a host), named in the Cliniko account's lease. */
  leaseWhere: 'CLINIKO_LEASE_WHERE',
  /** Seconds a container uses a clinic's secret before reading it again (a rotated key arrives). */
  secretMaxAgeSeconds: 'CLINIKO_SECRET_MAX_AGE_SECONDS',
} as const;

/**
 * Seven years: the longest record-retention rule found for the clinics we serve
 * (docs/DATA-PROTECTION.md, How long it is kept).
 */
/**
 * Secrets are named from the stack and the clinic: `cliniko-migrate/<stack>/<clinicId>`. Here, not
 * in the CDK stack, so the local runtime and the CLI name them without importing lib/.
 */
export const secretPrefix = (stackName: string) => `cliniko-migrate/${stackName}/`;

export const DEFAULT_AUDIT_RETENTION_DAYS = 2557;

/** An unset or empty variable is absent (CloudFormation cannot leave one out of a shared map). */
const absentIfEmpty = (v: unknown) => (v === '' ? undefined : v);
const text = z.preprocess(absentIfEmpty, z.string().optional());
const number = (check: z.ZodNumber) => z.preprocess(absentIfEmpty, z.coerce.number().pipe(check).optional());
const wholeAbove0 = z.number().int().positive();
const msAtLeast0 = z.number().nonnegative();

/**
 * What a pipeline Lambda reads from its environment (lib/migration-stack.ts sets it; the local
 * runner sets the same names), with its defaults. Units: milliseconds (`…Ms`), days, requests.
 * Parsed once at cold start by lambdas/shared/runtime.ts.
 */
const LambdaEnvironmentSchema = z
  .object({
    [ENV.statusTable]: z.string({ error: 'is not set' }).min(1, 'is not set'),
    [ENV.writeQueueUrl]: text,
    [ENV.bucket]: text,
    [ENV.secretPrefix]: text,
    [ENV.rateLimitPerMinute]: number(wholeAbove0),
    [ENV.rateLimitWindowMs]: number(wholeAbove0),
    /** Share of Cliniko's limit a run uses (0 to 1): leaves headroom for the clinic's own staff. */
    [ENV.rateLimitFraction]: number(z.number().positive().max(1)),
    [ENV.maxTokenWaitMs]: number(msAtLeast0),
    [ENV.batchSize]: number(wholeAbove0),
    [ENV.clinikoMaxAttempts]: number(wholeAbove0),
    [ENV.clinikoRetryBaseMs]: number(msAtLeast0),
    [ENV.auditRetentionDays]: number(wholeAbove0),
    [ENV.writeRetryBaseSeconds]: number(wholeAbove0),
    [ENV.rateLimitStore]: z.preprocess(absentIfEmpty, z.enum(['dynamodb', 'process']).optional()),
    [ENV.leaseWhere]: text,
    [ENV.secretMaxAgeSeconds]: number(z.number().nonnegative()),
  })
  .transform((e) => ({
    statusTable: e[ENV.statusTable],
    writeQueueUrl: e[ENV.writeQueueUrl],
    /** The stack's bucket: where write commands too long for an SQS message are kept. */
    bucket: e[ENV.bucket],
    secretPrefix: e[ENV.secretPrefix] ?? 'cliniko-migrate/',
    rateLimitPerMinute: e[ENV.rateLimitPerMinute] ?? 200,
    rateLimitWindowMs: e[ENV.rateLimitWindowMs] ?? 60_000,
    rateLimitFraction: e[ENV.rateLimitFraction] ?? 0.96,
    /** Absent: a step's own choice (a writer defers after 2 s, other steps wait as long as it takes). */
    maxTokenWaitMs: e[ENV.maxTokenWaitMs],
    /** Rows per batch Plan writes. */
    batchSize: e[ENV.batchSize] ?? 500,
    /** Absent: the Cliniko client's own retry policy. */
    clinikoMaxAttempts: e[ENV.clinikoMaxAttempts],
    clinikoRetryBaseMs: e[ENV.clinikoRetryBaseMs],
    auditRetentionDays: e[ENV.auditRetentionDays] ?? DEFAULT_AUDIT_RETENTION_DAYS,
    rateLimitStore: e[ENV.rateLimitStore] ?? 'dynamodb',
    /** A failed write comes back after 30 s, 60 s, 120 s… (at most 15 min), not the queue's 90 min. */
    writeRetryBaseSeconds: e[ENV.writeRetryBaseSeconds] ?? 30,
    /** Absent: the host name (a Lambda's is its sandbox's; the stack sets `AWS <stack>`). */
    leaseWhere: e[ENV.leaseWhere],
    /** 5 minutes unless told; 0 reads the secret for every use. */
    secretMaxAgeSeconds: e[ENV.secretMaxAgeSeconds] ?? 300,
  }));

export type LambdaEnvironment = z.output<typeof LambdaEnvironmentSchema>;

/**
 * The pipeline Lambda's environment, parsed: throws a BoundaryError naming each variable that is
 * missing or malformed (`environment refused: CLINIKO_RATE_LIMIT_PER_MINUTE: ...`).
 */
export function lambdaEnvironment(env: Record<string, string | undefined> = process.env): LambdaEnvironment {
  return parseAt('environment', LambdaEnvironmentSchema, env);
}

/**
 * The StartRun Lambda's environment: the state machine it starts, how many runs at once (default
 * 10), and the status table holding each clinic's gate (one run per clinic at a time).
 */
export function startRunEnvironment(env: Record<string, string | undefined> = process.env): {
  readonly stateMachineArn: string;
  readonly maxConcurrentRuns: number;
  readonly statusTable: string;
} {
  const parsed = parseAt(
    'environment',
    z.object({
      [ENV.stateMachineArn]: z.string({ error: 'is not set' }).min(1, 'is not set'),
      [ENV.maxConcurrentRuns]: number(wholeAbove0),
      [ENV.statusTable]: z.string({ error: 'is not set' }).min(1, 'is not set'),
    }),
    env,
  );
  return {
    stateMachineArn: parsed[ENV.stateMachineArn],
    maxConcurrentRuns: parsed[ENV.maxConcurrentRuns] ?? 10,
    statusTable: parsed[ENV.statusTable],
  };
}

/** A variable's value; throws when it is unset or empty. */
export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
