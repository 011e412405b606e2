import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { BatchGetCommand, DynamoDBDocumentClient, GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import type { z } from 'zod';
import 'aws-sdk-client-mock-jest';
import { approveDeployed, deployedStatus } from '../../apps/cli/deployed-runs.js';
import type { PreflightInput } from '../../lambdas/preflight/io.js';
import { approvalRefusal } from '../../lambdas/preflight/preflight.js';
import type { ApprovalMarker } from '../../src/core/approval.js';
import type { RunMode } from '../../src/ports/runs.js';
import { runInfo } from '../support/run-info.js';

const SHA = 'a'.repeat(64);
const AWS = { region: 'ap-southeast-2' };
const input: PreflightInput = {
  runId: 'live-1',
  clinicId: 'clinic-7',
  bucket: 'b',
  key: 'exports/clinic-7/x.zip',
  mode: 'live',
  approvalKey: 'exports/clinic-7/x.zip.approved',
};
const deps = (marker: ApprovalMarker | 'not json' | undefined, dryRun: string | undefined) => ({
  blobs: {
    getJson: async <S extends z.ZodType>(_b: string, _k: string, schema: S) => {
      if (marker === 'not json') throw new SyntaxError('Unexpected end of JSON input');
      return marker === undefined ? undefined : schema.parse(marker);
    },
  },
  store: {
    dryRunFor: async (scope: string, sha: string) => (scope === SCOPE && sha === SHA ? dryRun : undefined),
  },
});

/** The clinic in one Cliniko account: dry runs are remembered per account. */
const SCOPE = 'clinic-7@au1-1';

describe('a signed-off live run on AWS', () => {
  it('goes ahead when the export is the one whose dry run finished', async () => {
    expect(
      await approvalRefusal(input, SHA, SCOPE, deps({ runId: 'dry-1', sha256: SHA }, 'dry-1')),
    ).toBeUndefined();
    // a marker dropped by hand, empty: the export's finished dry run is what it approves
    expect(await approvalRefusal(input, SHA, SCOPE, deps('not json', 'dry-1'))).toBeUndefined();
  });

  it('is refused when the export changed after approval, or never had a finished dry run', async () => {
    const changed = await approvalRefusal(
      input,
      SHA,
      SCOPE,
      deps({ runId: 'dry-1', sha256: 'b'.repeat(64) }, 'dry-1'),
    );
    expect(changed).toMatch(/x\.zip changed after its dry run was approved/);
    const never = await approvalRefusal(input, SHA, SCOPE, deps(undefined, undefined));
    expect(never).toMatch(/has no finished dry run/);
    // a dry run into another account does not count
    expect(
      await approvalRefusal(input, SHA, 'clinic-7@au1-2', deps({ runId: 'dry-1', sha256: SHA }, 'dry-1')),
    ).toMatch(/no finished dry run into this Cliniko account/);
  });
});

describe('approve --stack', () => {
  const cfn = mockClient(CloudFormationClient);
  const ddb = mockClient(DynamoDBDocumentClient);
  const s3 = mockClient(S3Client);
  beforeEach(() => {
    cfn.reset();
    ddb.reset();
    s3.reset();
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
    s3.on(GetObjectCommand).rejects(new Error('not used'));
  });

  const runItem = (mode: RunMode, status: string) => ({
    Item: {
      pk: 'RUN#dry-1',
      sk: 'RUN',
      status,
      run: runInfo({
        runId: 'dry-1',
        mode,
        clinicId: 'clinic-7',
        exportKey: 'exports/clinic-7/x.zip',
        sha256: SHA,
      }),
    },
  });

  it('drops the approval marker beside the export, naming the dry run and its sha256', async () => {
    ddb.on(GetCommand).resolves(runItem('dry-run', 'succeeded'));
    s3.on(PutObjectCommand).resolves({});
    const marker = await approveDeployed('ClinikoMigrate', 'dry-1', 'ops', AWS);
    expect(marker).toEqual({ bucket: 'exports-bucket', key: 'exports/clinic-7/x.zip.approved' });
    const put = s3.commandCalls(PutObjectCommand)[0]?.args[0].input;
    expect(put?.Bucket).toBe('exports-bucket');
    expect(JSON.parse(String(put?.Body))).toMatchObject({ runId: 'dry-1', sha256: SHA, approvedBy: 'ops' });
  });

  it('status --stack shows a running run’s progress by entity from the deployed table', async () => {
    ddb.on(GetCommand).resolves(runItem('live', 'planned'));
    ddb.on(QueryCommand).callsFake((input: { ExpressionAttributeValues?: Record<string, unknown> }) => {
      const prefix = String(input.ExpressionAttributeValues?.[':prefix'] ?? '');
      if (prefix.startsWith('BATCH#'))
        return {
          Items: [
            {
              sk: 'BATCH#b1',
              counts: {
                entity: 'patients',
                source: 50,
                planned: 0,
                skipped: 0,
                invalid: 0,
                enqueued: 48,
                failed: 0,
              },
            },
          ],
        };
      if (prefix.startsWith('DONE#')) return { Items: [{ entity: 'patients', created: 30, failed: 1 }] };
      return { Items: [] };
    });
    ddb.on(BatchGetCommand).resolves({ Responses: { 'status-table': [] } });
    const status = await deployedStatus('ClinikoMigrate', 'dry-1', AWS);
    expect(status.state).toBe('running');
    expect(status.progress?.patients).toEqual({ enqueued: 48, finished: 31 });
    expect(status.waiting).toBeUndefined();
  });

  it('status --stack reads how the run’s Cliniko users’ buckets hold the writers back (issue 23)', async () => {
    ddb.on(GetCommand).resolves(runItem('live', 'planned'));
    ddb.on(QueryCommand).resolves({ Items: [] });
    const wait = { reason: 'cliniko-429', since: 1_000, until: 61_000 };
    ddb.on(BatchGetCommand).callsFake((input: { RequestItems?: Record<string, { Keys?: unknown[] }> }) => ({
      Responses: {
        'status-table': (input.RequestItems?.['status-table']?.Keys ?? []).map((key) => ({
          ...(key as object),
          tokens: 0,
          updatedAt: 61_000,
          pausedUntil: 61_000,
          version: 3,
          wait,
        })),
      },
    }));
    const status = await deployedStatus('ClinikoMigrate', 'dry-1', AWS);
    // the run's one Cliniko user (runInfo: user 1 of an au1 account) is the bucket read
    expect(ddb.commandCalls(BatchGetCommand)[0]?.args[0].input.RequestItems?.['status-table']?.Keys).toEqual([
      { pk: 'LIMIT#user:au1:1', sk: 'LIMIT' },
    ]);
    expect(status.waiting).toEqual(wait);
  });

  it('refuses a live run or an unfinished dry run', async () => {
    ddb.on(GetCommand).resolves(runItem('live', 'succeeded'));
    await expect(approveDeployed('ClinikoMigrate', 'dry-1', 'ops', AWS)).rejects.toThrow(
      /only a dry run is approved/,
    );
    ddb.on(GetCommand).resolves(runItem('dry-run', 'planned'));
    await expect(approveDeployed('ClinikoMigrate', 'dry-1', 'ops', AWS)).rejects.toThrow(
      /once it has finished/,
    );
    expect(s3).not.toHaveReceivedCommand(PutObjectCommand);
  });
});
