import { type ClinikoClient, type CreateOnceResult, refound } from '../../src/cliniko/client.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';
import { naturalKeyHash, resourceOfCommand } from '../../src/reconcile/resources.js';
import type { WriteDeps } from './write-deps.js';

/*
 * Creating a record once: re-found first by its natural key on a redelivery or after an ambiguous
 * failure, adopted when reconciliation found it in the account, created otherwise.
 */

type Created = CreateOnceResult<{ id: string; created_at?: string; archived_at?: string | null }>;

/**
 * Whether a record found again after a create whose answer was lost (or on a redelivery) was
 * created before this run started (Cliniko's `created_at` against the run's `startedAt`; both are
 * UTC instants, and a run reads the account for seconds before its first write, far more than the
 * clocks differ). Such a record is the clinic's or an earlier run's, never this run's.
 */
export function heldBeforeRun(record: Created['record'], deps: WriteDeps): boolean {
  const created = record.created_at ? Date.parse(record.created_at) : Number.NaN;
  if (Number.isNaN(created)) return false;
  const started = deps.runStartedAt ? Date.parse(deps.runStartedAt) : Number.NaN;
  // Cliniko's timestamps have whole seconds: a record made in the run's first second is its own.
  return !Number.isNaN(started) && created < Math.floor(started / 1000) * 1000;
}

/** A record found by its natural key on a redelivery; an archived one is an older copy, not ours. */
const refoundLive = <T extends Created['record']>(found: T | undefined): Created | undefined =>
  found && !found.archived_at ? { record: found, recovered: true } : undefined;

export const messageOf = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** The id map's run for a record found in the account, not written by this clinic's runs. */
export const FOUND_IN_CLINIKO = 'found-in-cliniko';
/** Whoever wrote a found record did its follow-ups: they are not done again. */
export const ADOPTED_STEPS = ['alerts', 'referral', 'cancel', 'arrival', 'processed'];

/**
 * Records in the id map a record found in the account rather than created by this run (adopted,
 * linked, or re-found from before the run): its follow-ups count as done, and rollback leaves it.
 */
export function recordFound(cmd: WriteCommand, deps: WriteDeps, clinikoId: string): Promise<void> {
  return deps.store.putIdMap(cmd.scope, cmd.entity, cmd.sourceId, {
    clinikoId,
    hash: '',
    runId: FOUND_IN_CLINIKO,
    at: deps.now().toISOString(),
    steps: ADOPTED_STEPS,
  });
}

/**
 * The command's record in the id map, and what this run's reconciliation found in the account
 * under its natural key (not asked for a linked patient, whose Cliniko id the command carries).
 */
export function lookupRecord(cmd: WriteCommand, deps: WriteDeps) {
  const of = cmd.payload.kind === 'patient' && cmd.payload.link ? undefined : resourceOfCommand(cmd);
  return deps.store.lookupRecord(
    cmd.scope,
    cmd.entity,
    cmd.sourceId,
    of && { resource: of.resource.name, runId: cmd.runId, key: naturalKeyHash(of.key) },
  );
}

export async function create(
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
