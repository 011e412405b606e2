import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { startEmulators } from '../../apps/local/emulators.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import type { RollbackReport } from '../../src/rollback/rollback.js';
import { cli } from '../support/cli.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { clinicSandbox } from '../support/sandbox.js';

/**
 * `rollback <runId> --stack NAME` end to end, no mocks: a live run on this machine writes its
 * records' state into the emulated DynamoDB table; the stack's outputs, the clinic's secret and
 * its bucket are then served by the local emulators (CloudFormation and Secrets Manager
 * stand-ins, dynalite, fauxqs) and the CLI rolls the run back through the stack path into the
 * Cliniko sandbox, as it would on AWS.
 */
const KEY = 'RollbackStackE2eKey00000000001-au1';
const STACK = 'ClinikoMigrateE2e';

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await clinicSandbox(KEY, { account: { id: '710001', name: 'Clinic 710001' } });
});
afterAll(() => sandbox.close());

const exportZip = () =>
  writeZip({
    ...(BASE as Record<string, string>),
    'Clients.csv': csv(
      'ClientId,FirstName,LastName,Email,DateOfBirth',
      'S1,Stack,One,s1@example.com,12/03/1981',
      'S2,Stack,Two,s2@example.com,12/03/1982',
    ),
    'Appointments.csv': csv(
      'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId',
      'SA1,S1,P1,02/05/2024,09:30,T1,L1',
      'SA2,S2,P1,03/05/2024,10:30,T1,L1',
    ),
  });

describe('rollback --stack against the emulators', () => {
  it("reads the run from the stack's table, the key from its secret, and writes the report to its bucket", async () => {
    const stateDir = join(await tempDir('rollback-stack-'), 'state');
    const out = join(await tempDir('rollback-stack-out-'), 'live');
    const saved = { ...process.env };
    process.env.CLINIKO_API_KEY = KEY;
    let runId: string;
    try {
      const live = await cli(
        'run',
        await exportZip(),
        '--mode',
        'live',
        '--cliniko-url',
        sandbox.baseUrl,
        '--state-dir',
        stateDir,
        '--out',
        out,
      );
      expect(live.code).toBe(0);
      runId = (JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { runId: string }).runId;
    } finally {
      process.env = saved;
    }
    const active = (table: 'patients' | 'individual_appointments' | 'appointment_types') =>
      sandbox.state.count(table, (r) => !r.archived_at);
    expect(active('patients')).toBe(2);
    expect(active('individual_appointments')).toBe(2);

    // the run's table as the stack's, on the emulators; the CLI finds it through the stack's outputs
    const emulators = await startEmulators({ statePath: join(stateDir, 'status-table') });
    try {
      const aws = { region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' } };
      const dynamo = new DynamoDBClient({ ...aws, endpoint: emulators.endpoints.dynamodb });
      const table = (await dynamo.send(new ListTablesCommand({}))).TableNames?.find((t) =>
        t.endsWith('-local'),
      );
      dynamo.destroy();
      if (!table) throw new Error('the live run left no status table');
      const s3 = new S3Client({ ...aws, endpoint: emulators.env.AWS_ENDPOINT_URL_S3, forcePathStyle: true });
      const bucket = 'clinikomigratee2e-bucket';
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      emulators.stacks.set(STACK, { BucketName: bucket, StatusTableName: table });
      // the clinic's secret, as an operator stores it for a stack (the local run's clinic is "local")
      emulators.secrets.set(
        `cliniko-migrate/${STACK}/local`,
        JSON.stringify({ apiKeys: [KEY], baseUrl: sandbox.baseUrl, userAgent: 'Clinic (it@clinic.example)' }),
      );
      const rollback = async (...more: string[]) => {
        const before = { ...process.env };
        Object.assign(process.env, emulators.env);
        delete process.env.AWS_REGION;
        delete process.env.CLINIKO_API_KEY;
        delete process.env.CLINIKO_API_KEYS;
        try {
          return await cli('rollback', runId, '--stack', STACK, '--region', 'us-east-1', ...more);
        } finally {
          process.env = before;
        }
      };

      const preview = await rollback('--dry-run');
      expect(preview.code).toBe(0);
      expect(preview.out).toMatch(/would archive 5; already archived 0/);
      expect(active('patients')).toBe(2);

      const done = await rollback();
      expect({ code: done.code, err: done.err }).toEqual({ code: 0, err: '' });
      expect(done.out).toMatch(/archived 5; already archived 0; changed after the run \(left\) 0/);
      expect(done.out).toContain(`s3://${bucket}/reports/local/${runId}/rollback.json`);
      expect(active('patients')).toBe(0);
      expect(active('individual_appointments')).toBe(0);
      expect(active('appointment_types')).toBe(0);
      expect(sandbox.state.count('patients')).toBe(2);
      const saved = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: `reports/local/${runId}/rollback.json` }),
      );
      const report = JSON.parse(
        await (saved.Body as { transformToString(): Promise<string> }).transformToString(),
      ) as RollbackReport;
      expect(report.counts).toMatchObject({ archived: 5, failed: 0 });
      expect(report.items.map((i) => i.resource)).toEqual([
        'appointments',
        'appointments',
        'patients',
        'patients',
        'appointmentTypes',
      ]);

      const again = await rollback();
      expect(again.code).toBe(0);
      expect(again.out).toMatch(/archived 0; already archived 5/);
      s3.destroy();
    } finally {
      await emulators.stop();
    }
  }, 300_000);
});
