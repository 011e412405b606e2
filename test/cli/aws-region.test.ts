import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { resolveAwsTarget } from '../../apps/cli/aws-target.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/exports.js';

/**
 * How the commands that talk to a deployed stack find its region (README "Deploy"): --region,
 * then AWS_REGION, then AWS_DEFAULT_REGION, then the profile's region; --profile picks the profile.
 */
const AWS_VARS = ['AWS_REGION', 'AWS_DEFAULT_REGION', 'AWS_PROFILE', 'AWS_CONFIG_FILE'] as const;
let saved: Partial<Record<(typeof AWS_VARS)[number], string>>;
let configFile: string;

beforeEach(async () => {
  saved = {};
  for (const name of AWS_VARS) {
    if (process.env[name] !== undefined) saved[name] = process.env[name];
    delete process.env[name];
  }
  // A shared config file of the operator's own: the default profile has no region, "clinic" has one.
  configFile = join(await tempDir('aws-config-'), 'config');
  writeFileSync(
    configFile,
    '[default]\noutput = json\n\n[profile clinic]\nregion = ap-southeast-2\n\n[profile other]\nregion = eu-west-2\n',
  );
  process.env.AWS_CONFIG_FILE = configFile;
});

afterEach(() => {
  for (const name of AWS_VARS) delete process.env[name];
  Object.assign(process.env, saved);
});

describe('resolveAwsTarget', () => {
  const fromProfile = async (profile: string | undefined) =>
    profile === 'clinic' ? 'ap-southeast-2' : undefined;

  it('takes --region first, then AWS_REGION, then AWS_DEFAULT_REGION, then the profile', async () => {
    const env = { AWS_REGION: 'us-west-2', AWS_DEFAULT_REGION: 'eu-central-1', AWS_PROFILE: 'clinic' };
    expect(await resolveAwsTarget({ region: 'ca-central-1' }, env, fromProfile)).toEqual({
      region: 'ca-central-1',
      profile: 'clinic',
    });
    expect(await resolveAwsTarget({}, env, fromProfile)).toEqual({ region: 'us-west-2', profile: 'clinic' });
    expect(await resolveAwsTarget({}, { ...env, AWS_REGION: '' }, fromProfile)).toEqual({
      region: 'eu-central-1',
      profile: 'clinic',
    });
    expect(await resolveAwsTarget({}, { AWS_PROFILE: 'clinic' }, fromProfile)).toEqual({
      region: 'ap-southeast-2',
      profile: 'clinic',
    });
  });

  it('--profile wins over AWS_PROFILE, and its region is read from the shared config file', async () => {
    expect(await resolveAwsTarget({ profile: 'other' }, { AWS_PROFILE: 'clinic' })).toEqual({
      region: 'eu-west-2',
      profile: 'other',
    });
    expect(await resolveAwsTarget({}, { AWS_PROFILE: 'clinic' })).toEqual({
      region: 'ap-southeast-2',
      profile: 'clinic',
    });
  });

  it('without any region says every place it looked', async () => {
    const refusal = resolveAwsTarget({ profile: 'nowhere' }, {}, async () => undefined);
    await expect(refusal).rejects.toThrow(/--region <region>/);
    await expect(refusal).rejects.toThrow(/AWS_REGION or AWS_DEFAULT_REGION/);
    await expect(refusal).rejects.toThrow(/"region" for profile nowhere in ~\/\.aws\/config/);
  });
});

describe('status, approve and rollback --stack reach the stack in the region resolved', () => {
  const cfn = mockClient(CloudFormationClient);
  const dynamo = mockClient(DynamoDBClient);
  const doc = mockClient(DynamoDBDocumentClient);
  const s3 = mockClient(S3Client);
  beforeEach(() => {
    for (const m of [cfn, dynamo, doc, s3]) m.reset();
    cfn.on(DescribeStacksCommand).resolves({
      Stacks: [
        {
          StackName: 'ClinikoMigrate',
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'BucketName', OutputValue: 'exports-bucket' },
            { OutputKey: 'StatusTableName', OutputValue: 'status-table' },
          ],
        },
      ],
    });
    // no such run: each command stops after reading the stack and its table
    doc.on(GetCommand).resolves({});
  });

  /** The region and profile of the client that sent the n-th call of a mocked client. */
  async function sentFrom(mock: typeof cfn | typeof doc, n = 0) {
    const client = mock.call(n).thisValue as CloudFormationClient | DynamoDBDocumentClient;
    return { region: await client.config.region(), profile: client.config.profile };
  }

  it.each([
    ['status', []],
    ['approve', ['--by', 'Jo Manager']],
    ['rollback', ['--dry-run']],
  ])('%s --stack --region --profile', async (command, extra) => {
    process.env.AWS_REGION = 'us-east-1';
    const res = await cli(
      command,
      'run-1',
      ...extra,
      '--stack',
      'ClinikoMigrate',
      '--region',
      'ap-southeast-4',
      '--profile',
      'clinic',
    );
    expect(res.code).toBe(2);
    expect(res.err).toMatch(/run-1 (is not )?in stack ClinikoMigrate/);
    expect(cfn).toHaveReceivedCommandWith(DescribeStacksCommand, { StackName: 'ClinikoMigrate' });
    expect(await sentFrom(cfn)).toEqual({ region: 'ap-southeast-4', profile: 'clinic' });
    expect(doc).toHaveReceivedCommandWith(GetCommand, { TableName: 'status-table' });
    expect(await sentFrom(doc)).toEqual({ region: 'ap-southeast-4', profile: 'clinic' });
  });

  it("takes the profile's region when neither --region nor the environment gives one", async () => {
    const res = await cli('status', 'run-1', '--stack', 'ClinikoMigrate', '--profile', 'other');
    expect(res.code).toBe(2);
    expect(await sentFrom(cfn)).toEqual({ region: 'eu-west-2', profile: 'other' });
  });

  it('takes AWS_DEFAULT_REGION when AWS_REGION is not set', async () => {
    process.env.AWS_DEFAULT_REGION = 'eu-west-1';
    const res = await cli('approve', 'run-1', '--stack', 'ClinikoMigrate');
    expect(res.code).toBe(2);
    expect((await sentFrom(cfn)).region).toBe('eu-west-1');
  });

  it('refuses with exit 2 naming where a region comes from, before calling AWS', async () => {
    const res = await cli('status', 'run-1', '--stack', 'ClinikoMigrate');
    expect(res.code).toBe(2);
    expect(res.err).toContain('no AWS region for the deployed stack: give --region <region>');
    expect(res.err).toContain('AWS_REGION or AWS_DEFAULT_REGION');
    expect(res.err).toContain('"region" for profile default');
    expect(cfn).not.toHaveReceivedCommand(DescribeStacksCommand);
  });

  it('refuses --region or --profile without --stack', async () => {
    const res = await cli('status', 'run-1', '--region', 'ap-southeast-2');
    expect(res.code).toBe(2);
    expect(res.err).toContain('--region applies to a deployed stack: add --stack <name>');
    const rollback = await cli('rollback', 'run-1', '--profile', 'clinic');
    expect(rollback.code).toBe(2);
    expect(rollback.err).toContain('--profile applies to a deployed stack');
  });
});
