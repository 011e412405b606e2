import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type LocalNames, resourcesOf, type Template } from './template.js';

/**
 * Creates what the template declares on the emulators: the status table, the queues (with their
 * redrive to the dead-letter queue) and the export bucket, and returns their local names by
 * logical id. Local visibility timeouts are short so retries come back in seconds, not minutes.
 */
export interface Provisioned extends LocalNames {
  readonly table: string;
  readonly bucket: string;
  readonly writeQueueUrl: string;
  readonly deadLetterQueueUrl: string;
}

export async function provision(
  template: Template,
  options: { visibilityTimeoutSeconds: number; suffix: string },
): Promise<Provisioned> {
  const refs: Record<string, string> = {};
  const region = 'us-east-1';
  const account = '000000000000';
  const dynamo = new DynamoDBClient({});
  const sqs = new SQSClient({});
  const s3 = new S3Client({ forcePathStyle: true });

  let table = '';
  for (const [id, r] of resourcesOf(template, 'AWS::DynamoDB::Table')) {
    const p = r.Properties as {
      KeySchema: { AttributeName: string; KeyType: 'HASH' | 'RANGE' }[];
      AttributeDefinitions: { AttributeName: string; AttributeType: 'S' | 'N' | 'B' }[];
    };
    table = `${id}-${options.suffix}`;
    try {
      await dynamo.send(
        new CreateTableCommand({
          TableName: table,
          KeySchema: p.KeySchema,
          AttributeDefinitions: p.AttributeDefinitions,
          BillingMode: 'PAY_PER_REQUEST',
        }),
      );
    } catch (err) {
      // a persistent table from an earlier run is kept: it holds the clinic's id map
      if ((err as { name?: string }).name !== 'ResourceInUseException') throw err;
    }
    refs[id] = table;
    refs[`${id}.Arn`] = `arn:aws:dynamodb:${region}:${account}:table/${table}`;
  }

  // Dead-letter queues first: the others name them in their redrive policy.
  const queues = resourcesOf(template, 'AWS::SQS::Queue').sort(
    ([, a], [, b]) => Number(!!a.Properties?.RedrivePolicy) - Number(!!b.Properties?.RedrivePolicy),
  );
  for (const [id, r] of queues) {
    const name = `${id}-${options.suffix}`;
    const redrive = r.Properties?.RedrivePolicy as
      | { deadLetterTargetArn: { 'Fn::GetAtt': [string, string] }; maxReceiveCount: number }
      | undefined;
    const attributes: Record<string, string> = {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds),
    };
    // the emulator then refuses a longer message as SQS does (InvalidParameterValue)
    const maxSize = r.Properties?.MaximumMessageSize;
    if (typeof maxSize === 'number') attributes.MaximumMessageSize = String(maxSize);
    if (redrive) {
      const target = refs[`${redrive.deadLetterTargetArn['Fn::GetAtt'][0]}.Arn`];
      attributes.RedrivePolicy = JSON.stringify({
        deadLetterTargetArn: target,
        maxReceiveCount: redrive.maxReceiveCount,
      });
    }
    const created = await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes }));
    const url = String(created.QueueUrl);
    const arn =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] })))
        .Attributes?.QueueArn ?? `arn:aws:sqs:${region}:${account}:${name}`;
    refs[id] = url;
    refs[`${id}.Arn`] = arn;
    refs[`${id}.QueueName`] = name;
  }

  let bucket = '';
  for (const [id] of resourcesOf(template, 'AWS::S3::Bucket')) {
    const name = `${id
      .toLowerCase()
      .replace(/[^a-z0-9-]/g, '')
      .slice(0, 40)}-${options.suffix}`.toLowerCase();
    if (id.startsWith('ExportBucket')) {
      await s3.send(new CreateBucketCommand({ Bucket: name }));
      bucket = name;
    }
    refs[id] = name;
    refs[`${id}.Arn`] = `arn:aws:s3:::${name}`;
  }

  const writeId = Object.keys(refs).find((k) => k.startsWith('WriteQueue') && !k.includes('.'));
  const dlqId = Object.keys(refs).find((k) => k.startsWith('WriteDeadLetters') && !k.includes('.'));
  return {
    region,
    account,
    refs,
    table,
    bucket,
    writeQueueUrl: writeId ? String(refs[writeId]) : '',
    deadLetterQueueUrl: dlqId ? String(refs[dlqId]) : '',
  };
}
