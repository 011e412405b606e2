import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { clinicHoldOf } from '../../lambdas/preflight/preflight.js';
import { dynamoClinicGate } from '../../src/adapters/aws/dynamo-clinic-gate.js';
import { StatusTable } from '../../src/adapters/aws/status-table.js';
import { CLINIC_HOLD_TTL_SECONDS, type ClinicHold, holdExpiresAt } from '../../src/ports/clinic-gate.js';
import { type LocalTable, localStatusTable } from '../support/dynalite.js';
import { runInfo } from '../support/run-info.js';

/**
 * A run's hold on its clinic (issue 23) through the steps' own functions, on the local DynamoDB:
 * the steps renew it while the run goes on, a run that lost it stops, Report gives it back.
 */
let local: LocalTable;
const saved = { ...process.env };
let lease: typeof import('../../lambdas/shared/lease.js');
beforeAll(async () => {
  local = await localStatusTable();
  const endpoint = await local.client.config.endpoint?.();
  Object.assign(process.env, {
    STATUS_TABLE: local.name,
    AWS_ENDPOINT_URL_DYNAMODB: `${endpoint?.protocol}//${endpoint?.hostname}:${endpoint?.port}`,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'local',
    AWS_SECRET_ACCESS_KEY: 'local',
  });
  (await import('../../lambdas/shared/runtime.js')).resetRuntime();
  lease = await import('../../lambdas/shared/lease.js');
});
afterAll(async () => {
  process.env = saved;
  (await import('../../lambdas/shared/runtime.js')).resetRuntime();
  await local.close();
});

const gate = () => dynamoClinicGate(new StatusTable(local.name, local.client));
const hold = (clinicId: string, runId: string): ClinicHold => ({
  clinicId,
  runId,
  mode: 'dry-run',
  exportKey: `exports/${clinicId}/a.zip`,
  takenAt: new Date().toISOString(),
  expiresAt: holdExpiresAt(Date.now()),
});
const expiryOf = async (clinicId: string) =>
  Number((await new StatusTable(local.name, local.client).get(`CLINIC#${clinicId}`, 'ACTIVE'))?.expiresAt);

describe('a run’s hold on its clinic', () => {
  it('is renewed by a step of a dry run, for the wait CheckPhase announces beyond its TTL', async () => {
    await gate().take({ ...hold('c1', 'run-1'), expiresAt: holdExpiresAt(Date.now()) - 3000 }, Date.now());
    const before = await expiryOf('c1');
    await lease.keepLease(runInfo({ runId: 'run-1', clinicId: 'c1', mode: 'dry-run' }), {
      always: true,
      waitSeconds: 600,
    });
    const after = await expiryOf('c1');
    expect(after).toBeGreaterThan(before);
    expect(after - Math.floor(Date.now() / 1000)).toBeGreaterThanOrEqual(CLINIC_HOLD_TTL_SECONDS + 600 - 2);
  });

  it('is renewed once across frequent short checks, and again before a wait it would not outlive', async () => {
    await gate().take(hold('c6', 'run-6'), Date.now());
    const run = runInfo({ runId: 'run-6', clinicId: 'c6', mode: 'dry-run' });
    await lease.keepLease(run, { waitSeconds: 10 });
    const first = await expiryOf('c6');
    // a check every few seconds: each renewal of a live run's lease is a Cliniko request
    await gate().take({ ...hold('c6', 'run-6'), expiresAt: first - 100 }, Date.now());
    for (let i = 0; i < 5; i += 1) await lease.keepLease(run, { waitSeconds: 10 });
    expect(await expiryOf('c6')).toBe(first - 100);
    // a wait longer than what the last renewal holds for renews before it
    await lease.keepLease(run, { waitSeconds: 3600 });
    expect(await expiryOf('c6')).toBeGreaterThan(first);
  });

  it('stops a step whose run lost its clinic to another run, naming the holder', async () => {
    await gate().take(hold('c2', 'run-other'), Date.now());
    await expect(
      lease.keepLease(runInfo({ runId: 'run-2', clinicId: 'c2', mode: 'dry-run' }), { always: true }),
    ).rejects.toMatchObject({
      name: 'ClinicHoldLostError',
      message: expect.stringContaining('run run-other'),
    });
  });

  it('is taken again by a step when DynamoDB’s TTL deleted it, and the step says so', async () => {
    const taken = hold('c7', 'run-7');
    await gate().take(taken, Date.now());
    await local.client.send(
      new DeleteItemCommand({ TableName: local.name, Key: { pk: { S: 'CLINIC#c7' }, sk: { S: 'ACTIVE' } } }),
    );
    const run = runInfo({
      runId: 'run-7',
      clinicId: 'c7',
      mode: 'dry-run',
      clinicHold: { exportKey: taken.exportKey, takenAt: taken.takenAt },
    });
    await lease.keepLease(run, { always: true });
    await expect(gate().holder('c7')).resolves.toMatchObject({
      runId: 'run-7',
      takenAt: taken.takenAt,
      exportKey: taken.exportKey,
    });
    expect((await expiryOf('c7')) - Math.floor(Date.now() / 1000)).toBeGreaterThanOrEqual(
      CLINIC_HOLD_TTL_SECONDS - 2,
    );
    // a lapsed hold another run has taken since stops the step, naming that run
    await gate().release('c7', 'run-7');
    await gate().take(hold('c7', 'run-8'), Date.now());
    await expect(lease.keepLease(run, { always: true })).rejects.toMatchObject({
      name: 'ClinicHoldLostError',
      message: expect.stringContaining('run run-8'),
    });
  });

  it('lets a run that took no hold (started by the CLI) go on, taking none', async () => {
    await lease.keepLease(runInfo({ runId: 'run-3', clinicId: 'c3', mode: 'dry-run' }), { always: true });
    expect(await new StatusTable(local.name, local.client).get('CLINIC#c3', 'ACTIVE')).toBeUndefined();
  });

  it('is given back by Report’s endClinicHold, only by its own run', async () => {
    await gate().take(hold('c4', 'run-4'), Date.now());
    await lease.endClinicHold('c4', 'run-else');
    await expect(gate().take(hold('c4', 'run-5'), Date.now())).resolves.toMatchObject({ taken: false });
    await lease.endClinicHold('c4', 'run-4');
    await expect(gate().take(hold('c4', 'run-5'), Date.now())).resolves.toMatchObject({ taken: true });
  });
});

describe('the hold a run records at Preflight', () => {
  it('is the gate’s when StartRun took it for this run, else an earlier record’s, else none', async () => {
    const taken = hold('c9', 'run-9');
    await gate().take(taken, Date.now());
    const holder = await gate().holder('c9');
    expect(clinicHoldOf('run-9', holder, undefined)).toEqual({
      exportKey: taken.exportKey,
      takenAt: taken.takenAt,
    });
    // another run's hold is not this run's; a run started by the CLI finds none
    expect(clinicHoldOf('run-10', holder, undefined)).toBeUndefined();
    expect(clinicHoldOf('run-11', await gate().holder('c-none'), undefined)).toBeUndefined();
    // a Preflight retried after the hold lapsed keeps what the first recorded
    const earlier = { clinicHold: { exportKey: 'exports/c9/a.zip', takenAt: '2026-12-05T00:00:00.000Z' } };
    expect(clinicHoldOf('run-12', undefined, earlier)).toEqual(earlier.clinicHold);
  });
});
