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
} as const;

export function requireEnv(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`environment variable ${name} is not set`);
  return value;
}
