import { Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import type { Table } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../../src/core/environment.js';
import { type Functions, MAPPERS_PER_RUN } from './functions.js';
import { MigrationFunction } from './migration-function.js';
import { pipelineDefinition } from './pipeline-definition.js';
import { addDeadLetterQueue } from './queues.js';

export interface StateMachineProps {
  readonly key: Key;
  /** The export bucket whose `exports/` objects start runs. */
  readonly bucket: Bucket;
  /** The status table: StartRun takes each clinic's gate in it (one run per clinic at a time). */
  readonly table: Table;
  readonly functions: Functions;
  readonly logRetention: RetentionDays;
  /** Runs at once: StartRun leaves a further export waiting in the run-start queue. */
  readonly maxConcurrentRuns: number;
}

/**
 * How long an export waiting for a free run slot waits between looks (the run-start queue's
 * visibility timeout), and how many looks it gets before it is dead-lettered (SQS's most,
 * 1,000): about ten days of waiting.
 */
export const RUN_START_RETRY = { visibility: Duration.minutes(15), maxReceiveCount: 1000 } as const;

/**
 * Adds the Step Functions state machine (pipeline-definition.ts: Preflight, Reconcile, Plan, the
 * phases of MapBatch, CheckPhase, Report), logging every transition but never its data (errors
 * could quote a row), and what starts it: an EventBridge rule on objects created under `exports/`
 * puts the event in the run-start queue, which StartRun reads one event at a time. With
 * `maxConcurrentRuns` executions running, StartRun leaves the event in the queue to look again
 * later ({@link RUN_START_RETRY}): a hundred exports at once wait their turn instead of failing
 * on Lambda throttling. An export of a clinic another run holds waits the same way (issue 23). Added to the stack itself so the logical ids stay those of deployed stacks.
 */
export function addStateMachine(stack: Stack, props: StateMachineProps): StateMachine {
  const { key, bucket, functions, logRetention } = props;
  const stateLogs = new LogGroup(stack, 'StateMachineLogs', {
    retention: logRetention,
    encryptionKey: key,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stateMachine = new StateMachine(stack, 'Pipeline', {
    stateMachineType: StateMachineType.STANDARD,
    definitionBody: DefinitionBody.fromChainable(
      pipelineDefinition(
        new Construct(stack, 'Steps'),
        {
          preflight: functions.preflight,
          reconcile: functions.reconcile,
          plan: functions.plan,
          mapBatch: functions.mapBatch,
          checkPhase: functions.checkPhase,
          report: functions.report,
        },
        // the mappers' reserved concurrency is this times the runs at once (functions.ts)
        { mapConcurrency: MAPPERS_PER_RUN },
      ),
    ),
    tracingEnabled: true,
    // Every state transition is logged, its data never: errors could quote a row.
    logs: { destination: stateLogs, level: LogLevel.ALL, includeExecutionData: false },
  });

  // Each Distributed Map reads its items from a manifest in the bucket (ItemReader, S3 GetObject).
  bucket.grantRead(stateMachine);
  // A run carries on in a fresh execution of this very state machine (pipeline-definition.ts). A
  // policy of its own, apart from the role's default policy the state machine depends on: naming
  // the state machine's ARN there would be a circular dependency.
  new Policy(stack, 'PipelineContinues', {
    roles: [stateMachine.role],
    statements: [
      new PolicyStatement({ actions: ['states:StartExecution'], resources: [stateMachine.stateMachineArn] }),
    ],
  });

  // An export's event waits here for a free run slot; one that never gets one is kept, not lost.
  const runStarts = new Queue(stack, 'RunStarts', {
    encryption: QueueEncryption.KMS,
    encryptionMasterKey: key,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
    visibilityTimeout: RUN_START_RETRY.visibility,
    deadLetterQueue: {
      queue: addDeadLetterQueue(stack, 'StartRunDeadLetters', key),
      maxReceiveCount: RUN_START_RETRY.maxReceiveCount,
    },
  });
  const startRun = new MigrationFunction(stack, 'StartRun', {
    name: 'start-run',
    description:
      'Starts a run for an export that lands in the bucket, once per object version, when a run slot is free',
    timeout: Duration.seconds(30),
    memorySize: 256,
    environment: {
      [ENV.stateMachineArn]: stateMachine.stateMachineArn,
      [ENV.maxConcurrentRuns]: String(props.maxConcurrentRuns),
      [ENV.statusTable]: props.table.tableName,
    },
    key,
    logRetention,
    // One at a time: two starts never both see the last free slot.
    reservedConcurrentExecutions: 1,
  });
  stateMachine.grantStartExecution(startRun);
  // counts the running executions: ListExecutions on this state machine only
  startRun.addToRolePolicy(
    new PolicyStatement({ actions: ['states:ListExecutions'], resources: [stateMachine.stateMachineArn] }),
  );
  // takes, reads and gives back a clinic's gate (CLINIC#<id>/ACTIVE): those three item actions on
  // the clinic items of the status table only, and its key
  startRun.addToRolePolicy(
    new PolicyStatement({
      actions: ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem'],
      resources: [props.table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['CLINIC#*'] } },
    }),
  );
  props.table.encryptionKey?.grantEncryptDecrypt(startRun);
  startRun.addEventSource(new SqsEventSource(runStarts, { batchSize: 1, maxConcurrency: 2 }));
  new Rule(stack, 'ExportLanded', {
    description: 'An export under exports/ starts a dry run; its .approved marker starts the live run',
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: { bucket: { name: [bucket.bucketName] }, object: { key: [{ prefix: 'exports/' }] } },
    },
    targets: [new SqsQueue(runStarts, { retryAttempts: 4 })],
  });
  return stateMachine;
}
