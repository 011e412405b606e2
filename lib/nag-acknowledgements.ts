import { type CfnResource, type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';

/**
 * cdk-nag findings (AwsSolutions and HIPAA Security) this stack accepts, each with its reason.
 * Everything else is fixed in the stack itself, and a test fails on any finding not listed here.
 */
export interface NagScope {
  readonly stack: Stack;
  readonly bucket: IConstruct;
  readonly accessLogs: IConstruct;
  readonly stateMachine: IConstruct;
  /** Functions the state machine invokes. */
  readonly tasks: readonly IConstruct[];
  readonly secrets: readonly IConstruct[];
}

export function acknowledgeNagFindings(scope: NagScope): void {
  const { stack } = scope;
  const logicalId = (c: IConstruct) => stack.getLogicalId(c.node.defaultChild as CfnResource);
  const ack = (on: IConstruct, id: string, reason: string) => Validations.of(on).acknowledge({ id, reason });

  ack(
    stack,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
    'The AWS-managed basic execution role only lets a function write its own logs.',
  );
  ack(
    stack,
    'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSBackupServiceRolePolicyForBackup]',
    'AWS Backup needs its managed service role to back the status table up.',
  );
  ack(
    stack,
    'AwsSolutions-IAM5[Resource::*]',
    'X-Ray (PutTraceSegments, PutTelemetryRecords) has no resource-level permissions.',
  );
  for (const action of ['kms:ReEncrypt*', 'kms:GenerateDataKey*']) {
    ack(
      stack,
      `AwsSolutions-IAM5[Action::${action}]`,
      "The KMS grants CDK makes for encrypted S3, SQS, DynamoDB and secrets; limited to the stack's one key.",
    );
  }
  for (const action of ['s3:GetObject*', 's3:GetBucket*', 's3:List*', 's3:DeleteObject*', 's3:Abort*']) {
    ack(
      stack,
      `AwsSolutions-IAM5[Action::${action}]`,
      'Read/write access of pipeline functions to the one export bucket (reads by range, multipart writes).',
    );
  }
  ack(
    stack,
    `AwsSolutions-IAM5[Resource::<${logicalId(scope.bucket)}.Arn>/*]`,
    'Objects of the export bucket are per run and per clinic: their keys are not known in advance.',
  );
  for (const fn of scope.tasks) {
    ack(
      scope.stateMachine,
      `AwsSolutions-IAM5[Resource::<${logicalId(fn)}.Arn>:*]`,
      "The state machine may invoke any version of the stack's own functions.",
    );
  }
  const executions = `arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:{"Fn::Select":[6,{"Fn::Split":[":",{"Ref":"${logicalId(scope.stateMachine)}"}]}]}`;
  for (const suffix of [':*', '/*:*']) {
    ack(
      scope.stateMachine,
      `AwsSolutions-IAM5[Resource::${executions}${suffix}]`,
      'Distributed Map states start and watch child executions of this very state machine.',
    );
  }
  for (const secret of scope.secrets) {
    ack(
      secret,
      'AwsSolutions-SMG4',
      'Cliniko API keys are made by a person in Cliniko (My Info, Manage API keys): no rotation Lambda can make one.',
    );
    ack(
      secret,
      'HIPAA.Security-SecretsManagerRotationEnabled',
      'Cliniko API keys are made by a person in Cliniko; they are revoked there after the migration.',
    );
  }
  ack(
    stack,
    'HIPAA.Security-S3BucketReplicationEnabled',
    'Health data stays in the region the clinic chose: no cross-region replication, by design.',
  );
  ack(
    scope.accessLogs,
    'HIPAA.Security-S3DefaultEncryptionKMS',
    'S3 server access logs can only be delivered to a bucket encrypted with SSE-S3.',
  );
  ack(
    stack,
    'HIPAA.Security-IAMNoInlinePolicy',
    "CDK grants are least-privilege inline policies scoped to this stack's resources.",
  );
  ack(
    stack,
    'HIPAA.Security-LambdaConcurrency',
    'Concurrency is bounded where it matters: the writer event source (maximum concurrency) and each Map (max concurrency); reserving it would fail deploys in accounts with low limits.',
  );
  ack(
    stack,
    'HIPAA.Security-LambdaDLQ',
    "Step Functions invokes these functions synchronously and retries them; the writer's failures go to its queue's dead-letter queue.",
  );
  ack(
    stack,
    'HIPAA.Security-LambdaInsideVPC',
    'The functions call Cliniko on the internet and AWS services through IAM-authorised, TLS-only, KMS-encrypted endpoints; a VPC would only add a NAT gateway.',
  );
}
