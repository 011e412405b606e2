import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { dynamoClinicGate } from '../../src/adapters/aws/dynamo-clinic-gate.js';
import { StatusTable } from '../../src/adapters/aws/status-table.js';
import {
  CLINIC_HOLD_TTL_SECONDS,
  type ClinicHold,
  holdExpiresAt,
  mayTake,
} from '../../src/ports/clinic-gate.js';
import { type LocalTable, localStatusTable } from '../support/dynalite.js';

/**
 * The clinic gate (issue 23) on the local DynamoDB: one run per clinic, decided by the store's
 * conditional write however many StartRuns race; a crashed run's hold expires; only the holder
 * renews or releases it.
 */
let local: LocalTable;
beforeAll(async () => {
  local = await localStatusTable();
});
afterAll(async () => {
  await local.close();
});

const T0 = Date.parse('2026-12-05T07:00:00Z');
const hold = (clinicId: string, runId: string, nowMs = T0): ClinicHold => ({
  clinicId,
  runId,
  mode: 'dry-run',
  exportKey: `exports/${clinicId}/${runId}.zip`,
  takenAt: new Date(nowMs).toISOString(),
  expiresAt: holdExpiresAt(nowMs),
});

describe('the clinic gate on the local DynamoDB', () => {
  it('lets exactly one of many concurrent runs take a clinic; the others see the holder', async () => {
    const gate = dynamoClinicGate(new StatusTable(local.name, local.client));
    const runs = Array.from({ length: 8 }, (_, i) => `run-${i}`);
    const takes = await Promise.all(runs.map((r) => gate.take(hold('race', r), T0)));
    const winners = takes.filter((t) => t.taken);
    expect(winners).toHaveLength(1);
    const winner = runs[takes.findIndex((t) => t.taken)];
    for (const t of takes) if (!t.taken) expect(t.holder.runId).toBe(winner);
    // another clinic is not held by this one
    await expect(gate.take(hold('other', 'run-x'), T0)).resolves.toEqual({ taken: true, fresh: true });
  });

  it('takes again for the run that holds it (a duplicate event), not fresh', async () => {
    const gate = dynamoClinicGate(new StatusTable(local.name, local.client));
    await expect(gate.take(hold('dup', 'run-a'), T0)).resolves.toEqual({ taken: true, fresh: true });
    await expect(gate.take(hold('dup', 'run-a'), T0 + 1000)).resolves.toEqual({ taken: true, fresh: false });
  });

  it('hands a crashed run’s clinic over once its hold has expired, not a second before', async () => {
    const gate = dynamoClinicGate(new StatusTable(local.name, local.client));
    await gate.take(hold('crash', 'run-dead'), T0);
    const expiry = T0 + CLINIC_HOLD_TTL_SECONDS * 1000;
    const before = await gate.take(hold('crash', 'run-next', expiry - 1000), expiry - 1000);
    expect(before).toMatchObject({ taken: false, holder: { runId: 'run-dead', mode: 'dry-run' } });
    await expect(gate.take(hold('crash', 'run-next', expiry), expiry)).resolves.toEqual({
      taken: true,
      fresh: true,
    });
    // the crashed run, back to life, finds the clinic taken: its renewal names the new holder
    await expect(gate.renew('crash', 'run-dead', holdExpiresAt(expiry))).resolves.toMatchObject({
      renewed: false,
      holder: { runId: 'run-next' },
    });
  });

  it('renews only the holder’s hold, pushing its expiry out', async () => {
    const gate = dynamoClinicGate(new StatusTable(local.name, local.client));
    await gate.take(hold('renew', 'run-a'), T0);
    const later = T0 + 50 * 60_000;
    await expect(gate.renew('renew', 'run-a', holdExpiresAt(later))).resolves.toEqual({ renewed: true });
    // past the first expiry, the renewed hold still keeps another run out
    const past = T0 + (CLINIC_HOLD_TTL_SECONDS + 60) * 1000;
    await expect(gate.take(hold('renew', 'run-b', past), past)).resolves.toMatchObject({ taken: false });
    // a run that never took a hold (started by the CLI) has nothing to renew, and creates nothing
    await expect(gate.renew('nobody', 'run-c', holdExpiresAt(T0))).resolves.toEqual({
      renewed: false,
      holder: undefined,
    });
    await expect(gate.take(hold('nobody', 'run-d'), T0)).resolves.toEqual({ taken: true, fresh: true });
  });

  it('takes a lapsed hold again on renewal: gone (the TTL deleted it) or expired, never over a live one', async () => {
    const table = new StatusTable(local.name, local.client);
    const gate = dynamoClinicGate(table);
    const taken = hold('lapse', 'run-a');
    const retake = (nowMs: number) => ({ hold: taken, nowMs });
    await gate.take(taken, T0);
    // DynamoDB's TTL deleted the item some time after it expired
    await local.client.send(
      new DeleteItemCommand({
        TableName: local.name,
        Key: { pk: { S: 'CLINIC#lapse' }, sk: { S: 'ACTIVE' } },
      }),
    );
    const late = T0 + (CLINIC_HOLD_TTL_SECONDS + 600) * 1000;
    // without what it took, a renewal cannot tell a lapsed hold from none, and takes nothing
    await expect(gate.renew('lapse', 'run-a', holdExpiresAt(late))).resolves.toEqual({
      renewed: false,
      holder: undefined,
    });
    await expect(gate.renew('lapse', 'run-a', holdExpiresAt(late), retake(late))).resolves.toEqual({
      renewed: true,
      retaken: true,
    });
    await expect(gate.holder('lapse')).resolves.toEqual({ ...taken, expiresAt: holdExpiresAt(late) });
    // the retaken hold keeps another run out
    await expect(gate.take(hold('lapse', 'run-b', late), late)).resolves.toMatchObject({
      taken: false,
      holder: { runId: 'run-a' },
    });

    // another run took the clinic after run-a's hold expired, and its own hold expired in turn
    const later = late + (CLINIC_HOLD_TTL_SECONDS + 60) * 1000;
    await gate.take(hold('lapse', 'run-b', later), later);
    const latest = later + (CLINIC_HOLD_TTL_SECONDS + 60) * 1000;
    await expect(gate.renew('lapse', 'run-a', holdExpiresAt(latest), retake(latest))).resolves.toEqual({
      renewed: true,
      retaken: true,
    });
    await expect(gate.holder('lapse')).resolves.toMatchObject({ runId: 'run-a' });
  });

  it('says who holds the clinic when a renewal could not take it again, and leaves that hold', async () => {
    const gate = dynamoClinicGate(new StatusTable(local.name, local.client));
    const mine = hold('live', 'run-a');
    const t1 = T0 + (CLINIC_HOLD_TTL_SECONDS + 60) * 1000;
    // run-a's hold expired and run-b took the clinic: run-b's hold is live
    await gate.take(mine, T0);
    await gate.take(hold('live', 'run-b', t1), t1);
    await expect(
      gate.renew('live', 'run-a', holdExpiresAt(t1 + 1000), { hold: mine, nowMs: t1 + 1000 }),
    ).resolves.toMatchObject({ renewed: false, holder: { runId: 'run-b' } });
    await expect(gate.holder('live')).resolves.toEqual(hold('live', 'run-b', t1));
  });

  it('releases only the holder’s hold, after which the next run takes the clinic', async () => {
    const gate = dynamoClinicGate(new StatusTable(local.name, local.client));
    await gate.take(hold('free', 'run-a'), T0);
    await expect(gate.release('free', 'run-b')).resolves.toBe(false);
    await expect(gate.take(hold('free', 'run-b'), T0)).resolves.toMatchObject({ taken: false });
    await expect(gate.release('free', 'run-a')).resolves.toBe(true);
    await expect(gate.take(hold('free', 'run-b'), T0)).resolves.toEqual({ taken: true, fresh: true });
  });
});

describe('the gate’s rule', () => {
  it('allows a free clinic, the holder itself, or an expired hold', () => {
    const h = hold('c', 'run-a');
    expect(mayTake(undefined, 'run-b', T0)).toBe(true);
    expect(mayTake(h, 'run-a', T0)).toBe(true);
    expect(mayTake(h, 'run-b', T0)).toBe(false);
    expect(mayTake(h, 'run-b', h.expiresAt * 1000 - 1)).toBe(false);
    expect(mayTake(h, 'run-b', h.expiresAt * 1000)).toBe(true);
  });

  it('lives the TTL after a renewal, plus the wait a check announces', () => {
    expect(holdExpiresAt(T0) - T0 / 1000).toBe(CLINIC_HOLD_TTL_SECONDS);
    expect(holdExpiresAt(T0, 1800.2) - T0 / 1000).toBe(CLINIC_HOLD_TTL_SECONDS + 1801);
  });
});
