import { Duration, type Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { LAMBDA_LIMITS } from '../../src/core/aws-limits.js';
import { ENV, secretPrefix } from '../../src/core/environment.js';
import { ALL_FONT_FILES, fontPath, NOTE_FONTS_DIR_ENV } from '../../src/documents/fonts.js';
import { MigrationFunction, type MigrationFunctionProps } from './migration-function.js';

// The stack, the CLI and the local runtime name secrets alike: the rule lives in src/core.
export { secretPrefix } from '../../src/core/environment.js';

/**
 * Writers at once: one per API key of the clinics deployed (each writer takes its batch of ten
 * records at once, so a lane stays full), at least two (SQS's floor) and at most 1,000.
 */
export function writerConcurrency(clinics: readonly string[], keys: readonly number[] = []): number {
  const total = clinics.reduce((n, _c, i) => n + Math.max(1, keys[i] ?? 1), 0);
  return Math.min(1000, Math.max(2, total));
}

/**
 * Batches mapped at once in one run (each phase's Distributed Map's MaxConcurrency; a run maps one
 * phase at a time).
 */
export const MAPPERS_PER_RUN = 10;

/** Runs at once in a stack unless the deployment says otherwise (`-c maxConcurrentRuns=N`). */
export const DEFAULT_MAX_CONCURRENT_RUNS = 10;

/**
 * The mappers' reserved concurrency: every run the stack lets run at once maps up to
 * {@link MAPPERS_PER_RUN} batches, so they never throttle one another nor are throttled by other
 * functions of the account (Lambda's 1,000 by default), and never take more than that.
 */
export function mapperReservedConcurrency(maxConcurrentRuns: number): number {
  return MAPPERS_PER_RUN * maxConcurrentRuns;
}

/**
 * The writer Lambda's timeout, Lambda's longest (15 min), for its slowest record: an attachment
 * whose storage POST may take `UPLOAD_TIMEOUT_MS` (120 s, src/cliniko/upload.ts) and is repeated by the client up
 * to five times after a transient failure (each after a presign of at most 30 s and a backoff):
 * about 13 minutes, then the create and its re-find. A batch's ten records run at once, so a batch
 * lasts as long as its slowest record. The write queue's visibility timeout follows it (six times);
 * a failed record comes back sooner, after its own backoff (lambdas/write/handler.ts).
 */
export const WRITER_TIMEOUT = Duration.seconds(LAMBDA_LIMITS.maxTimeoutSeconds);

export interface FunctionsProps {
  readonly key: Key;
  readonly bucket: Bucket;
  readonly table: Table;
  readonly writeQueue: Queue;
  readonly logRetention: RetentionDays;
  /** Clinics that get a Secrets Manager secret for their Cliniko API keys. */
  readonly clinics: readonly string[];
  /** API keys per clinic, in `clinics` order (default 1 each): the writers' concurrency. */
  readonly clinicKeys: readonly number[] | undefined;
  /** Requests per minute per Cliniko user (Cliniko: 200). */
  readonly clinikoRateLimit: number;
  /** Days the status table keeps runs, outcomes and the id map. */
  readonly auditRetentionDays: number;
  /** Runs at once in the stack: the mappers' reserved concurrency follows it. */
  readonly maxConcurrentRuns: number;
}

/** The pipeline's Lambda functions (one per folder of `lambdas/`) and the clinics' key secrets. */
export interface Functions {
  readonly preflight: MigrationFunction;
  readonly reconcile: MigrationFunction;
  readonly plan: MigrationFunction;
  readonly mapBatch: MigrationFunction;
  readonly writer: MigrationFunction;
  readonly checkPhase: MigrationFunction;
  readonly report: MigrationFunction;
  /** One per clinic: `{"apiKeys": [...], "userAgent": "..."}`. */
  readonly secrets: Secret[];
}

/**
 * Adds the pipeline's functions with the environment contract (src/core/environment.ts), each
 * granted only what it touches: the table (all), the bucket (read-write, the writer read only),
 * the write queue (mappers and writers send, CheckPhase reads its depth), the secrets (those that
 * call Cliniko). The writer reads the write queue in batches of ten, one writer per key lane.
 * Added to the stack itself so the logical ids stay those of deployed stacks.
 */
export function addFunctions(stack: Stack, props: FunctionsProps): Functions {
  const { key, bucket, table, writeQueue, logRetention } = props;
  const environment = {
    [ENV.statusTable]: table.tableName,
    [ENV.bucket]: bucket.bucketName,
    [ENV.writeQueueUrl]: writeQueue.queueUrl,
    [ENV.secretPrefix]: secretPrefix(stack.stackName),
    [ENV.rateLimitPerMinute]: String(props.clinikoRateLimit),
    [ENV.maxTokenWaitMs]: '2000',
    [ENV.auditRetentionDays]: String(props.auditRetentionDays),
    // named in the Cliniko account's lease, so a second runner knows where the holder runs
    [ENV.leaseWhere]: `AWS ${stack.stackName}`,
  };
  const fn = (
    id: string,
    name: string,
    description: string,
    timeout: Duration,
    memorySize?: number,
    extra?: Pick<MigrationFunctionProps, 'files' | 'environment' | 'reservedConcurrentExecutions'>,
  ) =>
    new MigrationFunction(stack, id, {
      name,
      description,
      timeout,
      key,
      logRetention,
      ...(memorySize ? { memorySize } : {}),
      ...extra,
      environment: { ...environment, ...extra?.environment },
    });
  const preflight = fn(
    'Preflight',
    'preflight',
    'Checks the export, the clinic configuration and Cliniko before a run',
    Duration.minutes(5),
    1024,
  );
  const reconcile = fn(
    'Reconcile',
    'reconcile',
    "Reads what the Cliniko account already holds of one resource and makes the clinic's id map agree",
    Duration.minutes(15),
    1024,
  );
  const plan = fn(
    'Plan',
    'plan',
    'Streams the export and splits its tables into batches',
    Duration.minutes(15),
    1024,
  );
  // Mappers render notes PDFs: they carry the fonts (a CJK font is 10 MB) and more memory.
  const mapBatch = fn(
    'MapBatch',
    'map-batch',
    'Validates and maps one batch of rows, renders notes PDFs, and enqueues its writes',
    Duration.minutes(5),
    1536,
    {
      files: { folder: 'fonts', paths: ALL_FONT_FILES.map((f) => fontPath(f)) },
      environment: { [NOTE_FONTS_DIR_ENV]: '/var/task/fonts' },
      reservedConcurrentExecutions: mapperReservedConcurrency(props.maxConcurrentRuns),
    },
  );
  const writer = fn('Writer', 'write', 'Writes records to Cliniko within its rate limit', WRITER_TIMEOUT);
  const checkPhase = fn(
    'CheckPhase',
    'check-phase',
    'Tells whether a phase has been written',
    Duration.minutes(1),
    256,
  );
  const report = fn(
    'Report',
    'report',
    'Writes report.json, report.html and problems.csv',
    Duration.minutes(15),
    1024,
  );

  for (const f of [preflight, reconcile, plan, mapBatch, writer, checkPhase, report])
    table.grantReadWriteData(f);
  for (const f of [preflight, reconcile, plan, mapBatch, report]) bucket.grantReadWrite(f);
  // writers stream letters and uploads from the export into Cliniko
  bucket.grantRead(writer);
  writeQueue.grantSendMessages(mapBatch);
  writeQueue.grantSendMessages(writer);
  for (const f of [checkPhase]) writeQueue.grant(f, 'sqs:GetQueueAttributes');
  writer.addEventSource(
    new SqsEventSource(writeQueue, {
      batchSize: 10,
      reportBatchItemFailures: true,
      maxConcurrency: writerConcurrency(props.clinics, props.clinicKeys),
    }),
  );

  const secrets: Secret[] = [];
  for (const clinicId of props.clinics) {
    const secret = new Secret(stack, `Secret-${clinicId}`, {
      secretName: `${secretPrefix(stack.stackName)}${clinicId}`,
      description: `Cliniko API keys of clinic ${clinicId}: {"apiKeys": ["…-au1"], "userAgent": "Clinic (it@clinic.example)"}`,
      encryptionKey: key,
      generateSecretString: {
        secretStringTemplate: JSON.stringify({ apiKeys: [] }),
        generateStringKey: 'placeholder',
      },
    });
    for (const f of [preflight, reconcile, writer, report]) secret.grantRead(f);
    secrets.push(secret);
  }
  return { preflight, reconcile, plan, mapBatch, writer, checkPhase, report, secrets };
}
