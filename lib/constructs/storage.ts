import { Duration, RemovalPolicy, type Stack } from 'aws-cdk-lib';
import { BackupPlan, BackupPlanRule, BackupResource } from 'aws-cdk-lib/aws-backup';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { SIGNED_OFF_TAG } from '../../src/core/approval.js';

export interface StorageProps {
  /** Days an export is kept at most, signed off or not. */
  readonly exportRetentionDays: number;
  /** Days an export and a run's working files are kept after its live run finished. */
  readonly signedOffGraceDays: number;
}

/** Where the clinic's data rests, all under one customer-managed key. */
export interface Storage {
  /** Encrypts everything the migration holds (buckets, table, queues, logs, secrets). */
  readonly key: Key;
  /** The export bucket's server access logs. */
  readonly accessLogs: Bucket;
  /** Exports (`exports/`), working files (`work/`) and reports. */
  readonly bucket: Bucket;
  /** Runs, outcomes and the id map: the audit trail. */
  readonly table: Table;
}

/**
 * Adds the data key, the export bucket (with its access-log bucket and lifecycle: signed-off
 * exports go after the grace period, every export after the cap, working files after the grace
 * period, reports stay), and the status table (point-in-time recovery, TTL `expiresAt`, daily and
 * monthly AWS Backup). Everything is retained when the stack is deleted.
 *
 * Resources are added to the stack itself, not under a construct of their own, so their logical
 * ids stay those of deployed stacks (a new logical id would replace the retained buckets and table).
 */
export function addStorage(stack: Stack, props: StorageProps): Storage {
  const key = new Key(stack, 'DataKey', {
    enableKeyRotation: true,
    description: 'Encrypts the clinic data the migration handles',
    removalPolicy: RemovalPolicy.RETAIN,
  });
  // CloudWatch Logs encrypts the log groups with this key.
  key.grantEncryptDecrypt(new ServicePrincipal(`logs.${stack.region}.amazonaws.com`));

  const accessLogs = new Bucket(stack, 'AccessLogs', {
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    encryption: BucketEncryption.S3_MANAGED,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
    versioned: true,
    lifecycleRules: [{ expiration: Duration.days(365) }],
    removalPolicy: RemovalPolicy.RETAIN,
  });

  const bucket = new Bucket(stack, 'ExportBucket', {
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
        expiration: Duration.days(props.signedOffGraceDays),
        noncurrentVersionExpiration: Duration.days(1),
      },
      {
        id: 'ExportCap',
        prefix: 'exports/',
        expiration: Duration.days(props.exportRetentionDays),
        noncurrentVersionExpiration: Duration.days(1),
      },
      {
        id: 'WorkingFiles',
        prefix: 'work/',
        expiration: Duration.days(props.signedOffGraceDays),
        noncurrentVersionExpiration: Duration.days(1),
      },
    ],
    removalPolicy: RemovalPolicy.RETAIN,
  });

  const table = new Table(stack, 'StatusTable', {
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
  return { key, accessLogs, bucket, table };
}

/** The status table is also backed up by AWS Backup (on top of point-in-time recovery). */
export function addStatusBackups(stack: Stack, table: Table): void {
  new BackupPlan(stack, 'StatusBackups', {
    backupPlanRules: [BackupPlanRule.daily(), BackupPlanRule.monthly1Year()],
  }).addSelection('StatusTable', {
    resources: [BackupResource.fromDynamoDbTable(table)],
  });
}
