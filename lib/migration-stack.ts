import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import { BackupPlan, BackupPlanRule, BackupResource } from 'aws-cdk-lib/aws-backup';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { DefinitionBody, LogLevel, StateMachine, StateMachineType } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { SIGNED_OFF_TAG } from '../src/core/approval.js';
import { ENV } from '../src/core/environment.js';
import { ALL_FONT_FILES, fontPath, NOTE_FONTS_DIR_ENV } from '../src/documents/fonts.js';
import { DEFAULT_AUDIT_RETENTION_DAYS } from '../src/ports/runs.js';
import { MigrationFunction, type MigrationFunctionProps } from './constructs/migration-function.js';
import { pipelineDefinition } from './constructs/pipeline-definition.js';
import { acknowledgeNagFindings } from './nag-acknowledgements.js';

/**
 * Writers at once: one per API key of the clinics deployed (each writer takes its batch of ten
 * records at once, so a lane stays full), at least two (SQS's floor) and at most 1,000.
 */
export function writerConcurrency(clinics: readonly string[], keys: readonly number[] = []): number {
  const total = clinics.reduce((n, _c, i) => n + Math.max(1, keys[i] ?? 1), 0);
  return Math.min(1000, Math.max(2, total));
}

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
}

/** Secrets are named from the stack and the clinic: `cliniko-migrate/<stack>/<clinicId>`. */
export const secretPrefix = (stackName: string) => `cliniko-migrate/${stackName}/`;

/**
 * The whole migration pipeline for AWS: exports land in S3, EventBridge starts the Step Functions
 * state machine, mappers fan batches out to an SQS queue, writers call Cliniko within its rate
 * limit, DynamoDB tracks every run, entity and record, and reports go back to S3.
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

    const key = new Key(this, 'DataKey', {
      enableKeyRotation: true,
      description: 'Encrypts the clinic data the migration handles',
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // CloudWatch Logs encrypts the log groups with this key.
    key.grantEncryptDecrypt(new ServicePrincipal(`logs.${this.region}.amazonaws.com`));

    const accessLogs = new Bucket(this, 'AccessLogs', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      encryption: BucketEncryption.S3_MANAGED,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      versioned: true,
      lifecycleRules: [{ expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.bucket = new Bucket(this, 'ExportBucket', {
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      encryption: BucketEncryption.KMS,
      encryptionKey: key,
      bucketKeyEnabled: true,
      eventBridgeEnabled: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'export-bucket/',
      // The export is a second full copy of the clinic's records: it goes soon after sign-off
      // (the Report step tags it once the live run finished), and after a cap in any case.
      // Working files go after the grace period; reports stay.
      lifecycleRules: [
        {
          id: 'SignedOffExports',
          prefix: 'exports/',
          tagFilters: { [SIGNED_OFF_TAG]: 'true' },
          expiration: Duration.days(props.signedOffGraceDays ?? 7),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          id: 'ExportCap',
          prefix: 'exports/',
          expiration: Duration.days(props.exportRetentionDays ?? 90),
          noncurrentVersionExpiration: Duration.days(1),
        },
        {
          id: 'WorkingFiles',
          prefix: 'work/',
          expiration: Duration.days(props.signedOffGraceDays ?? 7),
          noncurrentVersionExpiration: Duration.days(1),
        },
      ],
      removalPolicy: RemovalPolicy.RETAIN,
    });

    this.table = new Table(this, 'StatusTable', {
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: key,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      // The audit trail's retention: every item carries its expiry.
      timeToLiveAttribute: 'expiresAt',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const writerTimeout = Duration.seconds(60);
    this.deadLetterQueue = new Queue(this, 'WriteDeadLetters', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.writeQueue = new Queue(this, 'WriteQueue', {
      encryption: QueueEncryption.KMS,
      encryptionMasterKey: key,
      enforceSSL: true,
      // AWS: at least six times the function's timeout, so a slow batch is not delivered twice.
      visibilityTimeout: Duration.seconds(writerTimeout.toSeconds() * 6),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    const environment = {
      [ENV.statusTable]: this.table.tableName,
      [ENV.bucket]: this.bucket.bucketName,
      [ENV.writeQueueUrl]: this.writeQueue.queueUrl,
      [ENV.secretPrefix]: secretPrefix(this.stackName),
      [ENV.rateLimitPerMinute]: String(props.clinikoRateLimit ?? 200),
      [ENV.maxTokenWaitMs]: '2000',
      [ENV.auditRetentionDays]: String(props.auditRetentionDays ?? DEFAULT_AUDIT_RETENTION_DAYS),
    };
    const fn = (
      id: string,
      name: string,
      description: string,
      timeout: Duration,
      memorySize?: number,
      extra?: Pick<MigrationFunctionProps, 'files' | 'environment'>,
    ) =>
      new MigrationFunction(this, id, {
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
      },
    );
    const writer = fn('Writer', 'write', 'Writes records to Cliniko within its rate limit', writerTimeout);
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
      this.table.grantReadWriteData(f);
    for (const f of [preflight, reconcile, plan, mapBatch, report]) this.bucket.grantReadWrite(f);
    // writers stream letters and uploads from the export into Cliniko
    this.bucket.grantRead(writer);
    this.writeQueue.grantSendMessages(mapBatch);
    this.writeQueue.grantSendMessages(writer);
    for (const f of [checkPhase]) this.writeQueue.grant(f, 'sqs:GetQueueAttributes');
    writer.addEventSource(
      new SqsEventSource(this.writeQueue, {
        batchSize: 10,
        reportBatchItemFailures: true,
        maxConcurrency: writerConcurrency(props.clinics ?? [], props.clinicKeys),
      }),
    );

    const secrets: Secret[] = [];
    for (const clinicId of props.clinics ?? []) {
      const secret = new Secret(this, `Secret-${clinicId}`, {
        secretName: `${secretPrefix(this.stackName)}${clinicId}`,
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

    const stateLogs = new LogGroup(this, 'StateMachineLogs', {
      retention: logRetention,
      encryptionKey: key,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.stateMachine = new StateMachine(this, 'Pipeline', {
      stateMachineType: StateMachineType.STANDARD,
      definitionBody: DefinitionBody.fromChainable(
        pipelineDefinition(new Construct(this, 'Steps'), {
          preflight,
          reconcile,
          plan,
          mapBatch,
          checkPhase,
          report,
        }),
      ),
      tracingEnabled: true,
      // Every state transition is logged, its data never: errors could quote a row.
      logs: { destination: stateLogs, level: LogLevel.ALL, includeExecutionData: false },
    });

    const startRun = new MigrationFunction(this, 'StartRun', {
      name: 'start-run',
      description: 'Starts a run for an export that lands in the bucket, once per object version',
      timeout: Duration.seconds(30),
      memorySize: 256,
      environment: { [ENV.stateMachineArn]: this.stateMachine.stateMachineArn },
      key,
      logRetention,
      // Invoked asynchronously by EventBridge: an event it could not handle is kept, not lost.
      deadLetterQueue: new Queue(this, 'StartRunDeadLetters', {
        encryption: QueueEncryption.KMS,
        encryptionMasterKey: key,
        enforceSSL: true,
        retentionPeriod: Duration.days(14),
      }),
    });
    this.stateMachine.grantStartExecution(startRun);
    new Rule(this, 'ExportLanded', {
      description: 'An export under exports/ starts a dry run; its .approved marker starts the live run',
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: { bucket: { name: [this.bucket.bucketName] }, object: { key: [{ prefix: 'exports/' }] } },
      },
      targets: [new LambdaFunction(startRun, { retryAttempts: 4 })],
    });

    // Alarms go to a topic the operator subscribes to (context `alarmEmail` subscribes an address).
    this.alarmTopic = new Topic(this, 'Alarms', { masterKey: key, enforceSSL: true });
    if (props.alarmEmail) this.alarmTopic.addSubscription(new EmailSubscription(props.alarmEmail));
    const alarmAction = new SnsAction(this.alarmTopic);
    const dlqDepth = this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period: Duration.minutes(5),
    });
    const alarmDeadLettersAlarm = new Alarm(this, 'DeadLettersAlarm', {
      metric: dlqDepth,
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: 'Records could not be written to Cliniko after every retry',
    });
    const alarmFailedRunsAlarm = new Alarm(this, 'FailedRunsAlarm', {
      metric: this.stateMachine.metricFailed({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: 'A migration run failed',
    });
    const alarmWriterThrottlesAlarm = new Alarm(this, 'WriterThrottlesAlarm', {
      metric: writer.metricThrottles({ period: Duration.minutes(5) }),
      threshold: 5,
      evaluationPeriods: 2,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: 'The writer Lambda is throttled',
    });
    for (const alarm of [alarmDeadLettersAlarm, alarmFailedRunsAlarm, alarmWriterThrottlesAlarm])
      alarm.addAlarmAction(alarmAction);

    // The status table is also backed up by AWS Backup (on top of point-in-time recovery).
    new BackupPlan(this, 'StatusBackups', {
      backupPlanRules: [BackupPlanRule.daily(), BackupPlanRule.monthly1Year()],
    }).addSelection('StatusTable', {
      resources: [BackupResource.fromDynamoDbTable(this.table)],
    });

    new Dashboard(this, 'Dashboard', {
      widgets: [
        [
          new GraphWidget({
            title: 'Runs',
            left: [
              this.stateMachine.metricStarted(),
              this.stateMachine.metricSucceeded(),
              this.stateMachine.metricFailed(),
            ],
          }),
          new GraphWidget({
            title: 'Write queue',
            left: [
              this.writeQueue.metricApproximateNumberOfMessagesVisible(),
              this.writeQueue.metricApproximateNumberOfMessagesNotVisible(),
            ],
            right: [dlqDepth],
          }),
        ],
        [
          new GraphWidget({
            title: 'Writer',
            left: [writer.metricInvocations(), writer.metricErrors(), writer.metricThrottles()],
            right: [writer.metricDuration()],
          }),
        ],
      ],
    });

    acknowledgeNagFindings({
      stack: this,
      bucket: this.bucket,
      accessLogs,
      stateMachine: this.stateMachine,
      tasks: [preflight, reconcile, plan, mapBatch, checkPhase, report],
      secrets,
    });

    new CfnOutput(this, 'BucketName', {
      value: this.bucket.bucketName,
      description: 'Drop exports at s3://<bucket>/exports/<clinicId>/<name>.zip',
    });
    new CfnOutput(this, 'StatusTableName', { value: this.table.tableName });
    new CfnOutput(this, 'StateMachineArn', { value: this.stateMachine.stateMachineArn });
  }
}
