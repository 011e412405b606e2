import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { parseAt } from '../../core/boundary.js';
import {
  type ClinicGate,
  ClinicHold,
  type ClinicRenewal,
  type ClinicRetake,
  type ClinicTake,
} from '../../ports/clinic-gate.js';
import { ifCondition, type StatusTable } from './status-table.js';

const keyOf = (clinicId: string) => ({ pk: `CLINIC#${clinicId}`, sk: 'ACTIVE' });

/**
 * The clinic gate (src/ports/clinic-gate.ts) on the status table: item `CLINIC#<clinicId>/ACTIVE`
 * holding a ClinicHold. Every change is one conditional write, so concurrent StartRuns and steps
 * never both win: take is a PutItem under `attribute_not_exists(pk) OR runId = :run OR expiresAt
 * <= :now` (mayTake's rule; `expiresAt` is also the table's TTL attribute, and DynamoDB deletes an
 * expired item only eventually, so the condition compares it rather than trusting its absence),
 * renew an UpdateItem under `runId = :run` (and, for a run that took a hold and finds it gone or
 * expired, take's PutItem again), release a DeleteItem under `runId = :run`.
 */
export function dynamoClinicGate(table: StatusTable): ClinicGate {
  const holderOf = async (clinicId: string): Promise<ClinicHold | undefined> => {
    const item = await table.get(keyOf(clinicId).pk, keyOf(clinicId).sk);
    return item ? parseAt(`status table clinic gate CLINIC#${clinicId}/ACTIVE`, ClinicHold, item) : undefined;
  };
  const gate: ClinicGate = {
    holder: holderOf,

    async take(hold: ClinicHold, nowMs: number): Promise<ClinicTake> {
      for (let attempt = 1; ; attempt++) {
        try {
          const res = await table.doc.send(
            new PutCommand({
              TableName: table.name,
              Item: { ...keyOf(hold.clinicId), ...hold },
              ConditionExpression: 'attribute_not_exists(pk) OR runId = :run OR expiresAt <= :now',
              ExpressionAttributeValues: { ':run': hold.runId, ':now': Math.floor(nowMs / 1000) },
              ReturnValues: 'ALL_OLD',
            }),
          );
          return { taken: true, fresh: res.Attributes?.runId !== hold.runId };
        } catch (err) {
          if (!(err instanceof ConditionalCheckFailedException)) throw err;
          const holder = await holderOf(hold.clinicId);
          if (holder) return { taken: false, holder };
          // Released between the refused write and the read: the clinic is free, try again.
          if (attempt >= 3)
            throw new Error(`the clinic gate of ${hold.clinicId} changed hands 3 times in one take`);
        }
      }
    },

    async renew(
      clinicId: string,
      runId: string,
      expiresAt: number,
      retake?: ClinicRetake,
    ): Promise<ClinicRenewal> {
      const renewed = await ifCondition(() =>
        table.doc.send(
          new UpdateCommand({
            TableName: table.name,
            Key: keyOf(clinicId),
            UpdateExpression: 'SET expiresAt = :exp',
            ConditionExpression: 'runId = :run',
            ExpressionAttributeValues: { ':run': runId, ':exp': expiresAt },
          }),
        ),
      );
      if (renewed) return { renewed: true };
      if (!retake) return { renewed: false, holder: await holderOf(clinicId) };
      // Gone (TTL deleted it, or it was released) or another run's: take's own condition decides,
      // so a StartRun racing for the clinic and this renewal never both win.
      const { mode, exportKey, takenAt } = retake.hold;
      const again = await gate.take({ clinicId, runId, mode, exportKey, takenAt, expiresAt }, retake.nowMs);
      return again.taken ? { renewed: true, retaken: true } : { renewed: false, holder: again.holder };
    },

    release(clinicId: string, runId: string): Promise<boolean> {
      return ifCondition(() =>
        table.doc.send(
          new DeleteCommand({
            TableName: table.name,
            Key: keyOf(clinicId),
            ConditionExpression: 'runId = :run',
            ExpressionAttributeValues: { ':run': runId },
          }),
        ),
      );
    },
  };
  return gate;
}
