import { decideWrite } from '../../src/batch/write-decision.js';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import { ClinikoValidationError, failureKind } from '../../src/cliniko/errors.js';
import { DeferError } from '../../src/cliniko/rate-limiter.js';
import { idFromLink } from '../../src/cliniko/schemas.js';
import { sourceFieldOf } from '../../src/mapping/refusal-fields.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';
import { type IdMapEntry, medicalAlertStep } from '../../src/ports/id-map.js';
import type { WriteResult } from '../../src/ports/write-ledger.js';

import {
  ADOPTED_STEPS,
  create,
  FOUND_IN_CLINIKO,
  heldBeforeRun,
  lookupRecord,
  messageOf,
  recordFound,
} from './create-record.js';
import {
  CLAIM_TTL_MS,
  DeferredWrite,
  type Delivery,
  isRetryable,
  laneFor,
  PROCESSING_LIMIT_MS,
  PROCESSING_RECHECK_MS,
  ProcessingTimeout,
  type WriteDeps,
} from './write-deps.js';

/**
 * Writes one record to Cliniko exactly once. The clinic's id map says whether it was written
 * before (by this run or an earlier one); a redelivered message re-finds the record by its
 * natural key before creating; an ambiguous failure is re-found by the client. Follow-up
 * requests (alerts, referral source, cancellation, did-not-arrive) are recorded as steps so a
 * retry does only what is left. Cliniko's refusals (422, 401, 403) are results, not retries.
 */
export async function writeCommand(
  cmd: WriteCommand,
  deps: WriteDeps,
  delivery: Delivery,
): Promise<WriteResult> {
  const client = deps.cliniko(await laneFor(cmd, deps));
  let claimed = false;
  let createTried = false;
  try {
    const { written: existing, found } = await lookupRecord(cmd, deps);
    let clinikoId: string;
    let steps: readonly string[];
    let outcome: WriteResult['outcome'];
    const link = cmd.payload.kind === 'patient' ? cmd.payload.link : undefined;
    let entryRunId = existing?.runId ?? cmd.runId;
    let note: Pick<WriteResult, 'code' | 'reason' | 'file' | 'row' | 'field'> | undefined;
    // The same decision a dry run's settle makes (src/batch/write-decision.ts), so it counts alike.
    const decision = decideWrite({
      entity: cmd.entity,
      hash: cmd.hash,
      runId: cmd.runId,
      ...(existing ? { written: existing } : {}),
      ...(link ? { link } : {}),
      ...(found ? { found } : {}),
    });
    if (existing && decision.action !== 'create') {
      clinikoId = existing.clinikoId;
      steps = existing.steps;
      outcome = decision.action === 'update' ? 'updated' : decision.action;
      if (decision.action === 'update') {
        // A later export changed the record: Cliniko gets the new content (an update is idempotent).
        note = await update(cmd, client, clinikoId);
        await deps.store.putIdMap(cmd.scope, cmd.entity, cmd.sourceId, {
          ...existing,
          hash: cmd.hash,
          updatedIn: cmd.runId,
          at: deps.now().toISOString(),
        });
      }
    } else if (decision.action === 'alreadyPresent') {
      // Either `existingPatients: "link"` adopts the clinic's own Cliniko patient (given the source
      // id when it has none, so a later run finds it), or reconciliation found the record in the
      // account under its natural key: adopted, never created twice.
      if (link?.setReference && cmd.payload.kind === 'patient')
        await client.setPatientReference(link.clinikoId, cmd.payload.body.old_reference_id);
      clinikoId = decision.clinikoId;
      steps = ADOPTED_STEPS;
      outcome = 'alreadyPresent';
      entryRunId = FOUND_IN_CLINIKO;
      await recordFound(cmd, deps, clinikoId);
    } else {
      const claim = await deps.store.claim(
        cmd.scope,
        cmd.entity,
        cmd.sourceId,
        delivery.owner,
        CLAIM_TTL_MS,
        deps.now().getTime(),
      );
      // Another writer holds a copy of this command and is creating the record: come back later.
      if (claim === 'busy') throw new DeferError(5_000);
      if (claim === 'done') throw new DeferError(0);
      claimed = true;
      createTried = true;
      const { record, recovered } = await create(
        cmd,
        client,
        delivery.receiveCount > 1 || claim === 'taken-over' || cmd.refind === true,
        deps,
      );
      clinikoId = record.id;
      if (recovered && heldBeforeRun(record, deps)) {
        // Found again under its natural key, but it was in the account before this run started:
        // not this run's record (its create never reached Cliniko), so it is counted present and
        // a rollback of this run leaves it (issue 11).
        steps = ADOPTED_STEPS;
        outcome = 'alreadyPresent';
        entryRunId = FOUND_IN_CLINIKO;
        await recordFound(cmd, deps, clinikoId);
      } else {
        steps = [];
        outcome = 'created';
        const entry: IdMapEntry = {
          clinikoId,
          hash: cmd.hash,
          runId: cmd.runId,
          at: deps.now().toISOString(),
          steps: [],
        };
        await deps.store.putIdMap(cmd.scope, cmd.entity, cmd.sourceId, entry);
      }
    }
    if (outcome === 'created' || outcome === 'updated')
      await followUps(
        cmd,
        clinikoId,
        steps,
        client,
        deps,
        existing !== undefined || delivery.receiveCount > 1,
      );
    const result: WriteResult = {
      entity: cmd.entity,
      sourceId: cmd.sourceId,
      outcome,
      clinikoId,
      ...(note ?? {}),
    };
    const members = membersOf(cmd);
    if (members) {
      // A bundle (a patient's notes PDF): each note it carries is written, with the PDF's id.
      for (const member of members) {
        await deps.store.putIdMap(cmd.scope, cmd.entity, member, {
          clinikoId,
          hash: cmd.hash,
          runId: outcome === 'created' ? cmd.runId : entryRunId,
          at: deps.now().toISOString(),
          steps: [],
        });
        await deps.store.recordWrite(cmd.runId, { ...result, sourceId: member });
      }
    } else await deps.store.recordWrite(cmd.runId, result);
    return result;
  } catch (err) {
    if (isRetryable(err)) {
      // A claim held by this attempt is given up: whether the create happened is for the retry to
      // find out (it re-finds first on a redelivery).
      if (claimed) await deps.store.releaseClaim(cmd.scope, cmd.entity, cmd.sourceId, delivery.owner);
      // Deferred after a create was tried: the command comes back as a new message (receive
      // count 1), so it must say that the record may exist.
      if (err instanceof DeferError && createTried)
        throw new DeferredWrite(err.delayMs, {
          ...(err instanceof DeferredWrite ? err.command : cmd),
          refind: true,
        });
      for (const id of membersOf(cmd) ?? [cmd.sourceId])
        await deps.store.noteAttempt(cmd.runId, cmd.entity, id, messageOf(err));
      throw err;
    }
    const reason =
      err instanceof ClinikoValidationError
        ? Object.entries(err.fieldErrors)
            .map(([f, m]) => `${f} ${m}`)
            .join('; ')
        : messageOf(err);
    const result: WriteResult = {
      entity: cmd.entity,
      sourceId: cmd.sourceId,
      outcome: 'failed',
      reason,
      code:
        err instanceof ProcessingTimeout
          ? 'CLINIKO_PROCESSING_TIMEOUT'
          : `CLINIKO_${failureKind(err).toUpperCase().replace(/-/g, '_')}`,
      // The refusal points at the source: the row's file and row, and the column behind the key.
      file: cmd.file,
      row: cmd.row,
      field:
        err instanceof ClinikoValidationError
          ? sourceFieldOf(cmd.entity, Object.keys(err.fieldErrors), cmd.file)
          : '',
    };
    for (const id of membersOf(cmd) ?? [cmd.sourceId])
      await deps.store.recordWrite(cmd.runId, { ...result, sourceId: id });
    return result;
  }
}

async function followUps(
  cmd: WriteCommand,
  clinikoId: string,
  done: readonly string[],
  client: ClinikoClient,
  deps: WriteDeps,
  mayBePartial: boolean,
): Promise<void> {
  const step = async (name: string, action: () => Promise<unknown>) => {
    if (done.includes(name)) return;
    await action();
    await deps.store.addIdMapStep(cmd.scope, cmd.entity, cmd.sourceId, name);
  };
  const p = cmd.payload;
  if (p.kind === 'patient') {
    if (p.alerts.length) {
      await step('alerts', async () => {
        // A retry may follow a partial attempt: only the alerts not there yet are created.
        const there = mayBePartial
          ? new Set((await client.listMedicalAlerts(clinikoId)).map((a) => a.name))
          : new Set<string>();
        for (const name of p.alerts)
          if (!there.has(name)) {
            const { record } = await client.createMedicalAlertOnce({ patient_id: clinikoId, name });
            // noted one by one, so a rollback tells the run's alerts from a clinic's (an alert made
            // before a crash and not noted keeps its patient at rollback: the safe side)
            await deps.store.addIdMapStep(cmd.scope, cmd.entity, cmd.sourceId, medicalAlertStep(record.id));
          }
      });
    }
    if (p.referral) {
      const referral = p.referral;
      await step('referral', async () => {
        // Read once per client (deps.referralTypes, kept by the writer's caches): read for every
        // patient, it cost a request of the rate limit each time.
        const referralTypeCache =
          deps.referralTypes ?? new WeakMap<ClinikoClient, Promise<string | undefined>>();
        let typeId = referralTypeCache.get(client);
        if (!typeId) {
          typeId = client
            .listReferralSourceTypes()
            .then((types) => types.find((t) => t.referrer_type === 'Contact')?.id);
          referralTypeCache.set(client, typeId);
          // A failed read is not remembered: the next patient's step asks again.
          typeId.catch(() => referralTypeCache.delete(client));
        }
        const id = await typeId;
        if (id)
          await client.setReferralSource(clinikoId, {
            referral_source_type_id: id,
            referrer_id: referral.contactId,
          });
      });
    }
  }
  if (p.kind === 'attachment') {
    await step('processed', async () => {
      const record = await client.getPatientAttachment(clinikoId);
      if (record.processing_completed) return;
      const since = cmd.waitingSince ?? deps.now().toISOString();
      if (deps.now().getTime() - Date.parse(since) > PROCESSING_LIMIT_MS)
        throw new ProcessingTimeout(
          `Cliniko had not finished processing attachment ${clinikoId} after ${PROCESSING_LIMIT_MS / 60_000} minutes`,
        );
      throw new DeferredWrite(PROCESSING_RECHECK_MS, { ...cmd, waitingSince: since });
    });
  }
  if (p.kind === 'appointment') {
    const cancel = p.cancel;
    if (cancel) await step('cancel', () => client.cancelIndividualAppointment(clinikoId, cancel));
    // Did-not-arrive always; arrived as `markArrivals` chose in the mapper (two requests each).
    const arrived = p.arrived;
    if (arrived !== undefined) await step('arrival', () => client.setArrival(clinikoId, arrived));
  }
}

function membersOf(cmd: WriteCommand): readonly string[] | undefined {
  return cmd.payload.kind === 'attachment' ? cmd.payload.members : undefined;
}

/**
 * Sends a changed record's new content. An appointment is never moved to another patient: when
 * the export now names a client whose Cliniko patient is not the one the appointment is under
 * (a client id that changed between exports and was created anew, `existingPatients: "create"`;
 * a booking corrected in the old system), the rest is updated, the patient is kept, and the write
 * carries a warning for the report naming both patients (issue 11: "no appointment moved
 * silently"; moving history between patients is the clinic's decision, made in Cliniko).
 */
async function update(
  cmd: WriteCommand,
  client: ClinikoClient,
  id: string,
): Promise<Pick<WriteResult, 'code' | 'reason' | 'file' | 'row' | 'field'> | undefined> {
  const p = cmd.payload;
  if (p.kind === 'patient') await client.updatePatient(id, p.body);
  else if (p.kind === 'contact') await client.updateContact(id, p.body);
  else if (p.kind === 'appointment') {
    const wanted = p.body.patient_id;
    const current = idFromLink((await client.getIndividualAppointment(id)).patient);
    const { patient_id: _kept, ...rest } = p.body;
    const moves = current !== undefined && wanted !== undefined && String(wanted) !== current;
    await client.updateIndividualAppointment(id, moves ? rest : p.body);
    if (moves)
      return {
        code: 'APPOINTMENT_PATIENT_CHANGED',
        reason: `this export books it for client ${p.patientSourceId ?? '(unknown)'}, whose Cliniko patient is ${wanted}, but Cliniko appointment ${id} is under patient ${current}: kept under patient ${current}, not moved (move it in Cliniko if that is right)`,
        file: cmd.file,
        row: cmd.row,
        field: 'ClientId',
      };
  }
  return undefined;
}
