import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import 'aws-sdk-client-mock-jest';
import { type Sandbox, startSandbox } from '../../apps/sandbox/server.js';
import { LEASE_COMPANY_NAME } from '../../src/lease/account-lease.js';
import type { RunInfo } from '../../src/ports/runs.js';
import type { RollbackReport } from '../../src/rollback/rollback.js';
import { cli } from '../support/cli.js';
import { runInfo } from '../support/run-info.js';

/**
 * `rollback <runId> --stack NAME` with AWS mocked (CloudFormation, DynamoDB, Secrets Manager,
 * S3) and Cliniko played by the sandbox: the run's writes come from the stack's table, the key
 * from the clinic's secret, the report goes to the stack's bucket, every client in the region
 * given by --region or AWS_REGION.
 */
const KEY = 'RollbackStackKey00000000000001-au1';
const STACK = 'ClinikoMigrate';
const TABLE = 'ClinikoMigrate-Status';
const BUCKET = 'clinikomigrate-bucket';
const SCOPE = 'clinic-7@au1-900001';

const cfn = mockClient(CloudFormationClient);
const ddb = mockClient(DynamoDBDocumentClient);
const secrets = mockClient(SecretsManagerClient);
const s3 = mockClient(S3Client);

let sandbox: Sandbox;
const archived: string[] = [];
const leaseReleases: string[] = [];
beforeAll(async () => {
  sandbox = await startSandbox({
    rateLimit: 100_000,
    seed: {
      account: { id: '900001', name: 'Clinic 900001' },
      users: [{ first_name: 'Ops', last_name: 'Admin', is_practitioner: true, api_key: KEY }],
      businesses: [{ business_name: 'Auckland Central', time_zone_identifier: 'Pacific/Auckland' }],
    },
    observe: (method, path, status) => {
      if (method !== 'POST' || !path.endsWith('/archive') || status >= 300) return;
      // the account's lease (held around every rollback) archives its own marker contact
      const contact = path.match(/^\/v1\/contacts\/(\d+)\/archive$/)?.[1];
      if (contact && sandbox.state.get('contacts', contact)?.company_name === LEASE_COMPANY_NAME)
        leaseReleases.push(contact);
      else archived.push(path);
    },
  });
});
afterAll(() => sandbox.close());

const savedRegion = process.env.AWS_REGION;
afterEach(() => {
  if (savedRegion === undefined) delete process.env.AWS_REGION;
  else process.env.AWS_REGION = savedRegion;
});

/** The account as a live run wrote it: what it created, what it found, and the clinic's own. */
function account() {
  const t0 = Date.now();
  const insert = (table: Parameters<Sandbox['state']['insert']>[0], values: Record<string, unknown>) =>
    sandbox.state.insert(table, { archived_at: null, ...values });
  const type = insert('appointment_types', { name: 'Initial consult', duration_in_minutes: 30 });
  const c1 = insert('patients', { first_name: 'A', last_name: 'One', old_reference_id: 'C1' });
  const c2 = insert('patients', { first_name: 'B', last_name: 'Two', old_reference_id: 'C2' });
  const found = insert('patients', { first_name: 'C', last_name: 'Three', old_reference_id: 'C3' });
  const before = insert('patients', { first_name: 'D', last_name: 'Four', old_reference_id: 'C4' });
  sandbox.state.update('patients', before.id, { created_at: '2023-01-10T22:00:00Z' });
  const appointment = insert('individual_appointments', {
    patient_id: c1.id,
    appointment_type_id: type.id,
    starts_at: '2024-05-01T21:30:00Z',
    ends_at: '2024-05-01T22:00:00Z',
  });
  const letter = insert('patient_attachments', {
    patient_id: c1.id,
    description: '2024-05-02 Referral [Letter D1]',
    processing_completed: true,
  });
  const written = new Date(t0 + 5_000).toISOString();
  // C2 was edited at the front desk after the run wrote it
  const writtenEarlier = new Date(t0 - 30_000).toISOString();
  const write = (entity: string, sourceId: string, clinikoId: string, outcome = 'created', at = written) => ({
    pk: 'RUN#r1',
    sk: `OUT#${entity}#${sourceId}`,
    entity,
    sourceId,
    outcome,
    clinikoId,
    at,
  });
  const writes = [
    write('appointmentTypes', 'T1', type.id),
    write('patients', 'C1', c1.id),
    write('patients', 'C2', c2.id, 'created', writtenEarlier),
    write('patients', 'C3', found.id, 'alreadyPresent'),
    write('patients', 'C4', before.id),
    write('appointments', 'A1', appointment.id),
    write('letters', 'D1', letter.id),
  ];
  const run = runInfo({
    runId: 'r1',
    clinicId: 'clinic-7',
    account: { shard: 'au1', id: '900001', name: 'Clinic 900001', businesses: ['Auckland Central'] },
    scope: SCOPE,
    mode: 'live',
    startedAt: new Date(t0 - 60_000).toISOString(),
  });
  return { type, c1, c2, found, before, appointment, letter, writes, run };
}

/** Where each client was sent (its configured region), by service. */
const regions: Record<string, string[]> = {};
const noteRegion = async (service: string, getClient: () => { config: { region: unknown } }) => {
  const region = getClient().config.region;
  const value = typeof region === 'function' ? await region() : region;
  regions[service] = [...(regions[service] ?? []), String(value)];
};

function mockStack(setup: ReturnType<typeof account>, runOverride: Partial<RunInfo> = {}) {
  for (const k of Object.keys(regions)) delete regions[k];
  cfn.reset();
  ddb.reset();
  secrets.reset();
  s3.reset();
  cfn.on(DescribeStacksCommand).callsFake(async (_input, getClient) => {
    await noteRegion('cloudformation', getClient);
    return {
      Stacks: [
        {
          StackName: STACK,
          CreationTime: new Date(),
          StackStatus: 'CREATE_COMPLETE',
          Outputs: [
            { OutputKey: 'BucketName', OutputValue: BUCKET },
            { OutputKey: 'StatusTableName', OutputValue: TABLE },
          ],
        },
      ],
    };
  });
  ddb
    .on(GetCommand)
    .callsFake(async (input: { TableName: string; Key: { pk: string; sk: string } }, getClient) => {
      await noteRegion('dynamodb', getClient);
      if (input.TableName !== TABLE || input.Key.pk !== 'RUN#r1' || input.Key.sk !== 'RUN') return {};
      return {
        Item: { pk: 'RUN#r1', sk: 'RUN', run: { ...setup.run, ...runOverride }, status: 'succeeded' },
      };
    });
  ddb.on(QueryCommand).callsFake(async (input: { ExpressionAttributeValues: Record<string, string> }) => {
    const values = input.ExpressionAttributeValues;
    return values[':pk'] === 'RUN#r1' && values[':prefix'] === 'OUT#'
      ? { Items: setup.writes }
      : { Items: [] };
  });
  // The id map as the run's writer left it: one item per record it created (no alerts noted).
  ddb
    .on(BatchGetCommand)
    .callsFake(async (input: { RequestItems: Record<string, { Keys: { pk: string; sk: string }[] }> }) => {
      const keys = input.RequestItems[TABLE]?.Keys ?? [];
      const items = keys.flatMap((k) => {
        const w = setup.writes.find(
          (x) =>
            x.outcome === 'created' && k.pk === `CLINIC#${SCOPE}` && k.sk === `ID#${x.entity}#${x.sourceId}`,
        );
        return w ? [{ ...k, sourceId: w.sourceId, clinikoId: w.clinikoId, runId: 'r1', at: w.at }] : [];
      });
      return { Responses: { [TABLE]: items } };
    });
  ddb.on(DeleteCommand).resolves({});
  secrets.on(GetSecretValueCommand).callsFake(async (input: { SecretId: string }, getClient) => {
    await noteRegion('secretsmanager', getClient);
    if (input.SecretId !== `cliniko-migrate/${STACK}/clinic-7`)
      throw Object.assign(new Error("Secrets Manager can't find the specified secret."), {
        name: 'ResourceNotFoundException',
      });
    return {
      SecretString: JSON.stringify({
        apiKeys: [KEY],
        baseUrl: sandbox.baseUrl,
        userAgent: 'Clinic 7 (it@clinic.example)',
      }),
    };
  });
  s3.on(PutObjectCommand).callsFake(async (_input, getClient) => {
    await noteRegion('s3', getClient);
    return {};
  });
}

const savedReport = (): RollbackReport => {
  const put = s3
    .commandCalls(PutObjectCommand)
    .find((c) => c.args[0].input.Key === 'reports/clinic-7/r1/rollback.json');
  if (!put) throw new Error('rollback.json was not written to the bucket');
  return JSON.parse(String(put.args[0].input.Body)) as RollbackReport;
};

describe('rollback --stack', () => {
  beforeEach(() => {
    archived.length = 0;
    leaseReleases.length = 0;
  });

  it("archives what the run created, from the stack's table, with the clinic's key, in --region", async () => {
    delete process.env.AWS_REGION;
    const setup = account();
    mockStack(setup);

    const preview = await cli('rollback', 'r1', '--stack', STACK, '--region', 'ap-southeast-2', '--dry-run');
    expect(preview.code).toBe(0);
    expect(preview.out).toMatch(
      /would archive 4; already archived 0; changed after the run \(left\) 1; there before the run \(left\) 1/,
    );
    expect(archived).toEqual([]);
    expect(ddb).not.toHaveReceivedCommand(DeleteCommand);

    mockStack(setup);
    const done = await cli('rollback', 'r1', '--stack', STACK, '--region', 'ap-southeast-2');
    expect(done.code).toBe(0);
    expect(done.out).toContain('Clinic 900001 (au1, id 900001: Auckland Central)');
    expect(done.out).toMatch(
      /archived 4; already archived 0; changed after the run \(left\) 1; there before the run \(left\) 1/,
    );
    expect(done.out).toContain(`s3://${BUCKET}/reports/clinic-7/r1/rollback.json`);
    // the rollback held the account's lease and released it (its marker contact archived)
    expect(leaseReleases.length).toBeGreaterThan(0);
    // newest dependants first: the letter, the appointment, the patient, the appointment type
    expect(archived).toEqual([
      `/v1/patient_attachments/${setup.letter.id}/archive`,
      `/v1/individual_appointments/${setup.appointment.id}/archive`,
      `/v1/patients/${setup.c1.id}/archive`,
      `/v1/appointment_types/${setup.type.id}/archive`,
    ]);
    const gone = (table: 'patients', id: string) => Boolean(sandbox.state.get(table, id)?.archived_at);
    expect(gone('patients', setup.c2.id)).toBe(false);
    expect(gone('patients', setup.found.id)).toBe(false);
    expect(gone('patients', setup.before.id)).toBe(false);
    // the archived records' ids are forgotten in the clinic's map, nothing else
    const forgotten = ddb.commandCalls(DeleteCommand).map((c) => ({
      pk: String(c.args[0].input.Key?.pk),
      sk: String(c.args[0].input.Key?.sk),
    }));
    expect(forgotten.map((k) => k.pk)).toEqual(Array(4).fill(`CLINIC#${SCOPE}`));
    expect(forgotten.map((k) => k.sk).sort()).toEqual(
      ['ID#appointmentTypes#T1', 'ID#appointments#A1', 'ID#letters#D1', 'ID#patients#C1'].sort(),
    );
    // the report, in the stack's bucket beside the run's
    expect(s3).toHaveReceivedCommandWith(PutObjectCommand, {
      Bucket: BUCKET,
      Key: 'reports/clinic-7/r1/rollback.csv',
    });
    const report = savedReport();
    expect(report.counts).toMatchObject({ archived: 4, changed: 1, preexisting: 1, failed: 0 });
    expect(report.items.find((i) => i.clinikoId === setup.c2.id)?.reason).toMatch(/--force/);
    // every AWS client went to the region given
    for (const service of ['cloudformation', 'dynamodb', 'secretsmanager', 's3'])
      expect({ service, regions: [...new Set(regions[service])] }).toEqual({
        service,
        regions: ['ap-southeast-2'],
      });

    // again: nothing more is archived
    mockStack(setup);
    archived.length = 0;
    leaseReleases.length = 0;
    const again = await cli('rollback', 'r1', '--stack', STACK, '--region', 'ap-southeast-2');
    expect(again.code).toBe(0);
    expect(again.out).toMatch(/archived 0; already archived 4; changed after the run \(left\) 1/);
    expect(archived).toEqual([]);

    // --force takes the edited one too, never the one that was there before the run
    mockStack(setup);
    const forced = await cli('rollback', 'r1', '--stack', STACK, '--region', 'ap-southeast-2', '--force');
    expect(forced.code).toBe(0);
    expect(archived).toEqual([`/v1/patients/${setup.c2.id}/archive`]);
    expect(gone('patients', setup.before.id)).toBe(false);
  });

  it('takes the region from AWS_REGION, and says how to give one when there is none', async () => {
    const setup = account();
    mockStack(setup);
    process.env.AWS_REGION = 'eu-west-2';
    const preview = await cli('rollback', 'r1', '--stack', STACK, '--dry-run');
    expect(preview.code).toBe(0);
    expect(regions.cloudformation).toEqual(['eu-west-2']);
    expect([...new Set(regions.dynamodb)]).toEqual(['eu-west-2']);

    delete process.env.AWS_REGION;
    const saved = { file: process.env.AWS_CONFIG_FILE, profile: process.env.AWS_PROFILE };
    process.env.AWS_CONFIG_FILE = '/nonexistent/aws-config';
    delete process.env.AWS_PROFILE;
    try {
      cfn.reset();
      cfn.on(DescribeStacksCommand).callsFake(async (_input, getClient) => {
        // as the SDK does when no region is configured
        await getClient().config.region();
        return {};
      });
      const none = await cli('rollback', 'r1', '--stack', STACK, '--dry-run');
      expect(none.code).toBe(2);
      expect(none.err).toMatch(/no AWS region for the deployed stack: give --region <region>.*AWS_REGION/);
    } finally {
      if (saved.file === undefined) delete process.env.AWS_CONFIG_FILE;
      else process.env.AWS_CONFIG_FILE = saved.file;
      if (saved.profile !== undefined) process.env.AWS_PROFILE = saved.profile;
    }
  });

  it('refuses a key of another Cliniko account, and a clinic whose secret is missing', async () => {
    const setup = account();
    mockStack(setup, { account: { shard: 'au1', id: '900002', businesses: ['Elsewhere'] } });
    const other = await cli('rollback', 'r1', '--stack', STACK, '--region', 'ap-southeast-2');
    expect(other.code).toBe(2);
    expect(other.err).toMatch(/rollback archives only in the run's own account/);
    expect(archived).toEqual([]);

    mockStack(setup, { clinicId: 'clinic-8' });
    const noSecret = await cli('rollback', 'r1', '--stack', STACK, '--region', 'ap-southeast-2');
    expect(noSecret.code).toBe(2);
    expect(noSecret.err).toContain('cliniko-migrate/ClinikoMigrate/clinic-8');
    expect(archived).toEqual([]);
  });
});
