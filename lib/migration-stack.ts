import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import type { Topic } from 'aws-cdk-lib/aws-sns';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import type { StateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import type { Construct } from 'constructs';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '../src/core/environment.js';
import { addFunctions, DEFAULT_MAX_CONCURRENT_RUNS, WRITER_TIMEOUT } from './constructs/functions.js';
import { addMonitoring } from './constructs/monitoring.js';
import { addQueues } from './constructs/queues.js';
import { addStateMachine } from './constructs/state-machine.js';
import { addStatusBackups, addStorage } from './constructs/storage.js';
import { acknowledgeNagFindings } from './nag-acknowledgements.js';

export {
  DEFAULT_MAX_CONCURRENT_RUNS,
  MAPPERS_PER_RUN,
  mapperReservedConcurrency,
  secretPrefix,
  writerConcurrency,
} from './constructs/functions.js';

export interface MigrationStackProps extends StackProps {
  /** Clinics that get a Secrets Manager secret for their Cliniko API keys. */
  readonly clinics?: readonly string[];
  /**
   * API keys per clinic (in `clinics` order; default 1 each). The writers' concurrency follows
   * their sum: one writer per key lane (each writes its batch of ten at once).
   */
  readonly clinicKeys?: readonly number[];
  /** Days an export is kept at most, signed off or not (default 90). */
  readonly exportRetentionDays?: number;
  /** Days an export and a run's working files are kept after its live run finished (default 7). */
  readonly signedOffGraceDays?: number;
  /** Days the status table keeps runs, outcomes and the id map: the audit trail (default 7 years). */
  readonly auditRetentionDays?: number;
  /** Requests per minute per Cliniko user (Cliniko: 200). */
  readonly clinikoRateLimit?: number;
  readonly logRetention?: RetentionDays;
  /** An address that receives the alarms. */
  readonly alarmEmail?: string;
  /**
   * Runs (executions) at once in this stack (default 10): a further export waits in the run-start
   * queue until one ends. The mappers' reserved concurrency is sized from it.
   */
  readonly maxConcurrentRuns?: number;
}

/**
 * The whole migration pipeline for AWS: exports land in S3, EventBridge starts the Step Functions
 * state machine, mappers fan batches out to an SQS queue, writers call Cliniko within its rate
 * limit, DynamoDB tracks every run, entity and record, and reports go back to S3. Each concern is
 * added by its module under lib/constructs/ (storage, queues, functions, state machine,
 * monitoring); this class resolves the defaults and wires them together.
 */
export class MigrationStack extends Stack {
  readonly bucket: Bucket;
  readonly table: Table;
  readonly writeQueue: Queue;
  readonly deadLetterQueue: Queue;
  readonly stateMachine: StateMachine;
  readonly alarmTopic: Topic;

  constructor(scope: Construct, id: string, props: MigrationStackProps = {}) {
    super(scope, id, props);
    const logRetention = props.logRetention ?? RetentionDays.THREE_MONTHS;

    const { key, accessLogs, bucket, table } = addStorage(this, {
      exportRetentionDays: props.exportRetentionDays ?? 90,
      signedOffGraceDays: props.signedOffGraceDays ?? 7,
    });
    const { writeQueue, deadLetterQueue } = addQueues(this, { key, writerTimeout: WRITER_TIMEOUT });
    const functions = addFunctions(this, {
      key,
      bucket,
      table,
      writeQueue,
      logRetention,
      clinics: props.clinics ?? [],
      clinicKeys: props.clinicKeys,
      clinikoRateLimit: props.clinikoRateLimit ?? 200,
      maxConcurrentRuns: props.maxConcurrentRuns ?? DEFAULT_MAX_CONCURRENT_RUNS,
      auditRetentionDays: props.auditRetentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS,
    });
    const stateMachine = addStateMachine(this, {
      key,
      table,
      bucket,
      functions,
      logRetention,
      maxConcurrentRuns: props.maxConcurrentRuns ?? DEFAULT_MAX_CONCURRENT_RUNS,
    });
    this.alarmTopic = addMonitoring(this, {
      key,
      stateMachine,
      writeQueue,
      deadLetterQueue,
      writer: functions.writer,
      alarmEmail: props.alarmEmail,
    });
    addStatusBackups(this, table);
    this.bucket = bucket;
    this.table = table;
    this.writeQueue = writeQueue;
    this.deadLetterQueue = deadLetterQueue;
    this.stateMachine = stateMachine;

    const { preflight, reconcile, plan, mapBatch, checkPhase, report, secrets } = functions;
    acknowledgeNagFindings({
      stack: this,
      bucket,
      accessLogs,
      stateMachine,
      tasks: [preflight, reconcile, plan, mapBatch, checkPhase, report],
      secrets,
    });

    new CfnOutput(this, 'BucketName', {
      value: bucket.bucketName,
      description: 'Drop exports at s3://<bucket>/exports/<clinicId>/<name>.zip',
    });
    new CfnOutput(this, 'StatusTableName', { value: table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: stateMachine.stateMachineArn });
    // `redrive --stack` moves a run's dead letters back to the writers
    new CfnOutput(this, 'WriteQueueUrl', { value: writeQueue.queueUrl });
    new CfnOutput(this, 'DeadLetterQueueUrl', { value: deadLetterQueue.queueUrl });
  }
}
