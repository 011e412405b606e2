import type { Readable } from 'node:stream';
import { type ClinikoClient, type CreateOnceResult, refound } from '../../src/cliniko/client.js';
import {
  ClinikoAmbiguousError,
  ClinikoError,
  ClinikoRateLimitedError,
  ClinikoTransientError,
  ClinikoValidationError,
  failureKind,
} from '../../src/cliniko/errors.js';
import { DeferError } from '../../src/cliniko/rate-limiter.js';
import { idFromLink } from '../../src/cliniko/schemas.js';
import { sourceFieldOf } from '../../src/mapping/refusal-fields.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';
import type { Claims, Findings, IdMap, IdMapEntry } from '../../src/ports/id-map.js';
import type { WriteLedger, WriteResult } from '../../src/ports/write-ledger.js';
import { naturalKeyHash, resourceOfCommand } from '../../src/reconcile/resources.js';

/**
 * Writes one record to Cliniko exactly once. The clinic's id map says whether it was written
 * before (by this run or an earlier one); a redelivered message re-finds the record by its
 * natural key before creating; an ambiguous failure is re-found by the client. Follow-up
 * requests (alerts, referral source, cancellation, did-not-arrive) are recorded as steps so a
 * retry does only what is left. Cliniko's refusals (422, 401, 403) are results, not retries.
 */
export interface WriteDeps {
  readonly store: IdMap & Claims & Findings & WriteLedger;
  readonly cliniko: (keyIndex: number) => ClinikoClient;
  readonly now: () => Date;
  /** Opens a document of the run's export afresh (an upload attempt may need it twice). */
  readonly openDocument?: (runId: string, path: string) => Promise<Readable>;
  /** Opens a file the run made (a notes PDF in the bucket). */
  readonly openRunFile?: (runId: string, key: string) => Promise<Readable>;
  /** How many keys (lanes) the run has: a write not pinned to a key takes the least loaded one. */
  readonly keyCount?: number;
  /**
   * When the command's run started (RunInfo.startedAt, UTC): a record found again after a lost
   * create answer that Cliniko created before it is not the run's (issue 11).
   */
  readonly runStartedAt?: string;
}

/**
 * The key a write goes out with. A treatment note is pinned to its author's key; anything else
 * keeps the key it was given while that key has a token, and otherwise takes the key whose rate
 * limit frees soonest, so one busy key (a prolific author's notes) never holds the others' work.
 */
export async function laneFor(cmd: WriteCommand, deps: WriteDeps): Promise<number> {
  const n = deps.keyCount ?? 1;
  if (cmd.pinnedKey || n < 2) return cmd.keyIndex;
  const own = await deps.cliniko(cmd.keyIndex).waitForToken();
  if (own === 0) return cmd.keyIndex;
  let best = cmd.keyIndex;
  let bestWait = own;
  for (let i = 0; i < n; i++) {
    if (i === cmd.keyIndex) continue;
    const wait = await deps.cliniko(i).waitForToken();
    if (wait < bestWait) {
      best = i;
      bestWait = wait;
      if (wait === 0) break;
    }
  }
  return best;
}

/** How long to wait before asking again whether Cliniko has processed an attachment. */
export const PROCESSING_RECHECK_MS = 3_000;
/** Longer than this unprocessed, an attachment counts as failed (it exists; Cliniko did not finish it). */
export const PROCESSING_LIMIT_MS = 15 * 60_000;

export interface Delivery {
  /** SQS ApproximateReceiveCount: above 1, an earlier attempt may have written the record. */
  readonly receiveCount: number;
  /** Who is writing (the message id): the owner of a claim. */
  readonly owner: string;
}

/** A deferral that must re-queue a changed command (marked to re-find before creating). */
export class DeferredWrite extends DeferError {
  override name = 'DeferredWrite';
  constructor(
    delayMs: number,
    readonly command: WriteCommand,
  ) {
    super(delayMs);
  }
}

/** Longer than a writer invocation can last (its timeout), so a live claim is never taken over. */
export const CLAIM_TTL_MS = 120_000;

/** An attachment Cliniko never finished processing: a result, not worth another delivery. */
class ProcessingTimeout extends Error {
  override name = 'ProcessingTimeout';
}

/** Errors worth another delivery: the message goes back to the queue (and, in the end, the DLQ). */
export function isRetryable(err: unknown): boolean {
  return (
    err instanceof DeferError ||
    err instanceof ClinikoTransientError ||
    err instanceof ClinikoRateLimitedError ||
    err instanceof ClinikoAmbiguousError ||
    !(err instanceof ClinikoError || err instanceof ProcessingTimeout)
  );
}

const referralTypeCache = new Map<ClinikoClient, Promise<string | undefined>>();

export async function writeCommand(
  cmd: WriteCommand,
  deps: WriteDeps,
  delivery: Delivery,
): Promise<WriteResult> {
  const client = deps.cliniko(await laneFor(cmd, deps));
  let claimed = false;
  let createTried = false;
  try {
    const existing = (await deps.store.getIdMap(cmd.scope, cmd.entity, [cmd.sourceId])).get(cmd.sourceId);
    let clinikoId: string;
    let steps: readonly string[];
    let outcome: WriteResult['outcome'];
    const link = cmd.payload.kind === 'patient' ? cmd.payload.link : undefined;
    const adopted = existing || link ? undefined : await foundInAccount(cmd, deps);
    let entryRunId = existing?.runId ?? cmd.runId;
    let note: Pick<WriteResult, 'code' | 'reason' | 'file' | 'row' | 'field'> | undefined;
    if (existing) {
      clinikoId = existing.clinikoId;
      steps = existing.steps;
      outcome = existing.runId === cmd.runId ? 'created' : 'alreadyPresent';
      if (outcome === 'alreadyPresent' && existing.updatedIn === cmd.runId) outcome = 'updated';
      else if (outcome === 'alreadyPresent' && changed(existing, cmd)) {
        // A later export changed the record: Cliniko gets the new content (an update is idempotent).
        note = await update(cmd, client, clinikoId);
        await deps.store.putIdMap(cmd.scope, cmd.entity, cmd.sourceId, {
          ...existing,
          hash: cmd.hash,
          updatedIn: cmd.runId,
          at: deps.now().toISOString(),
        });
        outcome = 'updated';
      }
    } else if (link || adopted) {
      // Either `existingPatients: "link"` adopts the clinic's own Cliniko patient (given the source
      // id when it has none, so a later run finds it), or reconciliation found the record in the
      // account under its natural key: adopted, never created twice.
      if (link?.setReference && cmd.payload.kind === 'patient')
        await client.setPatientReference(link.clinikoId, cmd.payload.body.old_reference_id);
      clinikoId = link?.clinikoId ?? adopted ?? '';
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

type Created = CreateOnceResult<{ id: string; created_at?: string; archived_at?: string | null }>;

/**
 * Whether a record found again after a create whose answer was lost (or on a redelivery) was
 * created before this run started (Cliniko's `created_at` against the run's `startedAt`; both are
 * UTC instants, and a run reads the account for seconds before its first write, far more than the
 * clocks differ). Such a record is the clinic's or an earlier run's, never this run's.
 */
function heldBeforeRun(record: Created['record'], deps: WriteDeps): boolean {
  const created = record.created_at ? Date.parse(record.created_at) : Number.NaN;
  if (Number.isNaN(created)) return false;
  const started = deps.runStartedAt ? Date.parse(deps.runStartedAt) : Number.NaN;
  // Cliniko's timestamps have whole seconds: a record made in the run's first second is its own.
  return !Number.isNaN(started) && created < Math.floor(started / 1000) * 1000;
}

/** A record found by its natural key on a redelivery; an archived one is an older copy, not ours. */
const refoundLive = <T extends Created['record']>(found: T | undefined): Created | undefined =>
  found && !found.archived_at ? { record: found, recovered: true } : undefined;

const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The id map's run for a record found in the account, not written by this clinic's runs. */
export const FOUND_IN_CLINIKO = 'found-in-cliniko';
/** Whoever wrote a found record did its follow-ups: they are not done again. */
const ADOPTED_STEPS = ['alerts', 'referral', 'cancel', 'arrival', 'processed'];

/**
 * Records in the id map a record found in the account rather than created by this run (adopted,
 * linked, or re-found from before the run): its follow-ups count as done, and rollback leaves it.
 */
function recordFound(cmd: WriteCommand, deps: WriteDeps, clinikoId: string): Promise<void> {
  return deps.store.putIdMap(cmd.scope, cmd.entity, cmd.sourceId, {
    clinikoId,
    hash: '',
    runId: FOUND_IN_CLINIKO,
    at: deps.now().toISOString(),
    steps: ADOPTED_STEPS,
  });
}

/** What this run's reconciliation found in the account under the command's natural key. */
async function foundInAccount(cmd: WriteCommand, deps: WriteDeps): Promise<string | undefined> {
  const of = resourceOfCommand(cmd);
  return of && deps.store.getFound(cmd.scope, of.resource.name, cmd.runId, naturalKeyHash(of.key));
}

async function create(
  cmd: WriteCommand,
  client: ClinikoClient,
  refindFirst: boolean,
  deps: WriteDeps,
): Promise<Created> {
  const p = cmd.payload;
  switch (p.kind) {
    case 'appointmentType': {
      if (refindFirst) {
        const found = refoundLive(
          refound(
            (await client.listAppointmentTypes({ includeArchived: true })).filter(
              (t) => t.name === p.body.name,
            ),
          ),
        );
        if (found) return found;
      }
      return client.createAppointmentTypeOnce(p.body);
    }
    case 'contact': {
      if (refindFirst) {
        const found = refoundLive(await client.findContact(p.body));
        if (found) return found;
      }
      return client.createContactOnce(p.body);
    }
    case 'patient': {
      if (refindFirst) {
        const found = refoundLive(await client.findPatientByReference(p.body.old_reference_id));
        if (found) return found;
      }
      return client.createPatientOnce(p.body);
    }
    case 'appointment': {
      if (refindFirst) {
        const found = refoundLive(await client.findIndividualAppointment(p.body));
        if (found) return found;
      }
      return client.createIndividualAppointmentOnce(p.body);
    }
    case 'treatmentNoteTemplate': {
      // Once per account: a template of this name (ours from an earlier run, or the clinic's) is used.
      const found = refoundLive(await client.findTreatmentNoteTemplate(p.body.name));
      if (found) return found;
      return client.createTreatmentNoteTemplateOnce(p.body);
    }
    case 'treatmentNote': {
      if (refindFirst) {
        const found = refoundLive(await client.findTreatmentNote(p.body));
        if (found) return found;
      }
      return client.createTreatmentNoteOnce(p.body);
    }
    case 'attachment': {
      if (refindFirst) {
        const found = refoundLive(await client.findAttachment(p.patientId, p.description));
        if (found) return found;
      }
      const runFile = p.runFile;
      const open = runFile ? deps.openRunFile : deps.openDocument;
      if (!open)
        throw new Error(`this writer cannot read ${runFile ? "the run's files" : "the export's documents"}`);
      return client.uploadPatientAttachment({
        patientId: p.patientId,
        filename: p.filename,
        contentType: p.contentType,
        size: p.size,
        open: () => open(cmd.runId, runFile ?? p.path),
        description: p.description,
        // Processing is waited for as a follow-up step, re-queued, never slept through in a Lambda.
        waitForProcessing: false,
      });
    }
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
          if (!there.has(name)) await client.createMedicalAlertOnce({ patient_id: clinikoId, name });
      });
    }
    if (p.referral) {
      const referral = p.referral;
      await step('referral', async () => {
        let typeId = referralTypeCache.get(client);
        if (!typeId) {
          typeId = client
            .listReferralSourceTypes()
            .then((types) => types.find((t) => t.referrer_type === 'Contact')?.id);
          referralTypeCache.set(client, typeId);
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
 * Patients, contacts and appointments whose content hash differs from the one written. A hash
 * left empty (a patient found in Cliniko, not written by us) is never overwritten.
 */
function changed(existing: IdMapEntry, cmd: WriteCommand): boolean {
  const kind = cmd.payload.kind;
  return (
    (kind === 'patient' || kind === 'contact' || kind === 'appointment') &&
    existing.hash !== '' &&
    cmd.hash !== '' &&
    existing.hash !== cmd.hash
  );
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
