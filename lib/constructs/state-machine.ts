import { Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Key } from 'aws-cdk-lib/aws-kms';
import { LogGroup, type RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { ENV } from '../../src/core/environment.js';
import type { Functions } from './functions.js';
import { MigrationFunction } from './migration-function.js';
import { pipelineDefinition } from './pipeline-definition.js';
import { addDeadLetterQueue } from './queues.js';

export interface StateMachineProps {
  readonly key: Key;
  /** The export bucket whose `exports/` objects start runs. */
  readonly bucket: Bucket;
  readonly functions: Functions;
  readonly logRetention: RetentionDays;
}

/**
 * Adds the Step Functions state machine (pipeline-definition.ts: Preflight, Reconcile, Plan, the
 * phases of MapBatch, CheckPhase, Report), logging every transition but never its data (errors
 * could quote a row), and what starts it: an EventBridge rule on objects created under `exports/`
 * invoking StartRun (retried 4 times, then kept in its dead-letter queue). Added to the stack
 * itself so the logical ids stay those of deployed stacks.
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
      pipelineDefinition(new Construct(stack, 'Steps'), {
        preflight: functions.preflight,
        reconcile: functions.reconcile,
        plan: functions.plan,
        mapBatch: functions.mapBatch,
        checkPhase: functions.checkPhase,
        report: functions.report,
      }),
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

  const startRun = new MigrationFunction(stack, 'StartRun', {
    name: 'start-run',
    description: 'Starts a run for an export that lands in the bucket, once per object version',
    timeout: Duration.seconds(30),
    memorySize: 256,
    environment: { [ENV.stateMachineArn]: stateMachine.stateMachineArn },
    key,
    logRetention,
    // Invoked asynchronously by EventBridge: an event it could not handle is kept, not lost.
    deadLetterQueue: addDeadLetterQueue(stack, 'StartRunDeadLetters', key),
  });
  stateMachine.grantStartExecution(startRun);
  new Rule(stack, 'ExportLanded', {
    description: 'An export under exports/ starts a dry run; its .approved marker starts the live run',
    eventPattern: {
      source: ['aws.s3'],
      detailType: ['Object Created'],
      detail: { bucket: { name: [bucket.bucketName] }, object: { key: [{ prefix: 'exports/' }] } },
    },
    targets: [new LambdaFunction(startRun, { retryAttempts: 4 })],
  });
  return stateMachine;
}
