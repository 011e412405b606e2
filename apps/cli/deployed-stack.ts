import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { type AwsTarget, clientConfig } from './aws-target.js';
import { UsageError } from './errors.js';

/** Where a deployed stack keeps its bucket and status table (its CloudFormation outputs). */
export interface DeployedStack {
  readonly bucket: string;
  readonly table: string;
  /** The write queue and its dead-letter queue (stacks deployed before `redrive` have neither). */
  readonly writeQueueUrl?: string;
  readonly deadLetterQueueUrl?: string;
}

/** Reads the stack's outputs in `aws`'s region with its profile; UsageError (exit 2) when unreadable. */
export async function deployedStack(name: string, aws: AwsTarget): Promise<DeployedStack> {
  let outputs: Record<string, string>;
  try {
    const res = await new CloudFormationClient(clientConfig(aws)).send(
      new DescribeStacksCommand({ StackName: name }),
    );
    outputs = Object.fromEntries(
      (res.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    );
  } catch (err) {
    throw new UsageError(
      `--stack ${name}: cannot read the stack in ${aws.region}${aws.profile ? ` with profile ${aws.profile}` : ''} (${(err as Error).message})`,
    );
  }
  const bucket = outputs.BucketName;
  const table = outputs.StatusTableName;
  if (!bucket || !table)
    throw new UsageError(`--stack ${name}: the stack has no BucketName and StatusTableName outputs`);
  return {
    bucket,
    table,
    ...(outputs.WriteQueueUrl ? { writeQueueUrl: outputs.WriteQueueUrl } : {}),
    ...(outputs.DeadLetterQueueUrl ? { deadLetterQueueUrl: outputs.DeadLetterQueueUrl } : {}),
  };
}
