import { describe, expect, it } from '@jest/globals';
import { BoundaryError } from '../../src/core/boundary.js';
import {
  DEFAULT_AUDIT_RETENTION_DAYS,
  lambdaEnvironment,
  startRunEnvironment,
} from '../../src/core/environment.js';

describe('the Lambda environment, parsed once at cold start', () => {
  it('fills in the defaults when only the status table is set', () => {
    // Act
    const env = lambdaEnvironment({ STATUS_TABLE: 'status' });
    // Assert
    expect(env).toEqual({
      statusTable: 'status',
      writeQueueUrl: undefined,
      bucket: undefined,
      secretPrefix: 'cliniko-migrate/',
      rateLimitPerMinute: 200,
      rateLimitWindowMs: 60_000,
      rateLimitFraction: 0.96,
      maxTokenWaitMs: undefined,
      batchSize: 500,
      clinikoMaxAttempts: undefined,
      clinikoRetryBaseMs: undefined,
      auditRetentionDays: DEFAULT_AUDIT_RETENTION_DAYS,
      rateLimitStore: 'dynamodb',
      writeRetryBaseSeconds: 30,
      secretMaxAgeSeconds: 300,
    });
  });

  it('reads numbers from their strings, and an empty variable as unset', () => {
    // Act
    const env = lambdaEnvironment({
      STATUS_TABLE: 'status',
      CLINIKO_RATE_LIMIT_PER_MINUTE: '2000',
      CLINIKO_MAX_TOKEN_WAIT_MS: '0',
      PLAN_BATCH_SIZE: '',
      CLINIKO_RETRY_BASE_MS: '5',
      CLINIKO_RATE_LIMIT_STORE: 'process',
      CLINIKO_SECRET_MAX_AGE_SECONDS: '60',
    });
    // Assert
    expect(env).toMatchObject({
      secretMaxAgeSeconds: 60,
      rateLimitStore: 'process',
      rateLimitPerMinute: 2000,
      maxTokenWaitMs: 0,
      batchSize: 500,
      clinikoRetryBaseMs: 5,
    });
  });

  it('refuses a malformed environment, naming each variable at fault', () => {
    // Act
    const attempt = () =>
      lambdaEnvironment({
        CLINIKO_RATE_LIMIT_PER_MINUTE: 'lots',
        CLINIKO_RATE_LIMIT_FRACTION: '1.5',
        PLAN_BATCH_SIZE: '-3',
        CLINIKO_RATE_LIMIT_STORE: 'redis',
      });
    // Assert
    expect(attempt).toThrow(BoundaryError);
    expect(attempt).toThrow(/^environment refused: /);
    let refused: unknown;
    try {
      attempt();
    } catch (err) {
      refused = err;
    }
    expect(refused instanceof BoundaryError && refused.fields.map((f) => f.path)).toEqual([
      'STATUS_TABLE',
      'CLINIKO_RATE_LIMIT_PER_MINUTE',
      'CLINIKO_RATE_LIMIT_FRACTION',
      'PLAN_BATCH_SIZE',
      'CLINIKO_RATE_LIMIT_STORE',
    ]);
    expect(attempt).toThrow(/STATUS_TABLE: is not set/);
  });

  it('StartRun needs its state machine and the status table of the clinic gates (ten runs at once unless told)', () => {
    expect(startRunEnvironment({ STATE_MACHINE_ARN: 'arn:sm', STATUS_TABLE: 'status' })).toEqual({
      stateMachineArn: 'arn:sm',
      maxConcurrentRuns: 10,
      statusTable: 'status',
    });
    expect(
      startRunEnvironment({ STATE_MACHINE_ARN: 'arn:sm', STATUS_TABLE: 'status', MAX_CONCURRENT_RUNS: '3' }),
    ).toMatchObject({ maxConcurrentRuns: 3 });
    expect(() => startRunEnvironment({})).toThrow('environment refused: STATE_MACHINE_ARN: is not set');
    expect(() => startRunEnvironment({ STATE_MACHINE_ARN: 'arn:sm' })).toThrow('STATUS_TABLE: is not set');
  });
});
