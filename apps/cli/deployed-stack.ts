import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { UsageError } from './errors.js';

/** Where a deployed stack keeps its bucket and status table (its CloudFormation outputs). */
export interface DeployedStack {
  readonly bucket: string;
  readonly table: string;
}

/**
 * Reads the stack's outputs with the AWS SDK's credential chain, in `region` when given (else the
 * SDK's chain: AWS_REGION, the profile's region). Errors: UsageError naming the stack when it
 * cannot be read (no region, no credentials, no such stack) or lacks the outputs.
 */
export async function deployedStack(name: string, region?: string): Promise<DeployedStack> {
  let outputs: Record<string, string>;
  try {
    const res = await new CloudFormationClient(region ? { region } : {}).send(
      new DescribeStacksCommand({ StackName: name }),
    );
    outputs = Object.fromEntries(
      (res.Stacks?.[0]?.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']),
    );
  } catch (err) {
    const message = (err as Error).message;
    throw new UsageError(
      `--stack ${name}: cannot read the stack (${message})${/region/i.test(message) ? ": give the stack's region with --region or AWS_REGION" : ''}`,
    );
  }
  const bucket = outputs.BucketName;
  const table = outputs.StatusTableName;
  if (!bucket || !table)
    throw new UsageError(`--stack ${name}: the stack has no BucketName and StatusTableName outputs`);
  return { bucket, table };
}
