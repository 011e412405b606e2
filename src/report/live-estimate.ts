import type { MigrationConfig } from '../config/migration-config.js';
import type { EntityCounts, EntityKey } from '../core/entities.js';

/**
 * What the live run of a dry run's plan will cost (issue 15): Cliniko requests and wall-clock time
 * at the configured keys' rate limit (200 requests a minute per key, Cliniko's API documentation;
 * 96 % of it used, as the writers keep a margin). Per planned record: one create; a patient's
 * follow-ups (medical alerts, referral) about half a request more; an attachment (a notes PDF, a
 * letter, an upload) three: presigned post, create, and a look at its processing (the upload
 * itself goes to the presigned storage, not to Cliniko's API, and is not under its rate limit).
 * Beside the records, the reads the live run makes before writing (Preflight's checks and
 * reconciliation's listing of the account) and the account's lease (see LEASE_REQUESTS).
 * Checked by test/e2e/dry-estimate.test.ts: a first run, a repeat and a delta within 10 % of the
 * requests Cliniko's API received in the live run.
 */
export interface LiveEstimate {
  readonly requests: number;
  readonly keys: number;
  /** Minutes at `keys` keys, and at 4 keys for comparison. */
  readonly minutes: number;
  readonly minutesAt4: number;
}

/** Preflight's and reconciliation's reads when the dry run did not count its own (a fresh account). */
export const PREFLIGHT_REQUESTS = 10;
/**
 * The live run's requests for the account's lease and its report (src/lease/account-lease.ts):
 * taking it (create a marker, list twice), releasing it (list, archive), about five renewals (a
 * list and an update each: the steps that renew, each at most every five minutes), and the
 * report's read of the busiest week back from Cliniko. A dry run makes none of them.
 */
export const LEASE_REQUESTS = 3 + 2 + 5 * 2 + 1;
/** Cliniko requests one attachment takes: presigned post, create, a look at its processing. */
export const REQUESTS_PER_ATTACHMENT = 3;
/** Requests a minute one key writes: Cliniko's 200, of which the writers use 96 %. */
export const PER_KEY_PER_MINUTE = 200 * 0.96;

/**
 * @param planned per entity, the records the live run will create (`planned`) and update.
 * @param reads Cliniko requests the dry run made itself (Preflight's checks and reconciliation's
 *   listing of the account, from the run's request counts): the live run makes them again before
 *   writing. A repeat or a delta after a live run reads more of the account than a first run
 *   does, and for a repeat they are nearly all its requests. PREFLIGHT_REQUESTS when not counted.
 */
export function estimateLive(
  planned: Record<EntityKey, Pick<EntityCounts, 'planned'> & Partial<Pick<EntityCounts, 'updated'>>>,
  config: Pick<MigrationConfig, 'clinicalNotes'>,
  keys: number,
  reads: number = PREFLIGHT_REQUESTS,
): LiveEstimate {
  const p = (k: EntityKey) => planned[k].planned;
  // An update (a record changed since an earlier run wrote it, write-decision.ts): one request,
  // an appointment two (its patient is read first, write-command.ts). Present records cost none.
  const u = (k: EntityKey) => planned[k].updated ?? 0;
  const notes = p('clinicalNotes');
  const mode: string = config.clinicalNotes;
  const pdfs = mode === 'pdf-per-note' ? notes : mode === 'native' ? 0 : Math.min(notes, p('patients'));
  const native = mode.startsWith('native') ? notes : 0;
  const requests = Math.round(
    reads +
      LEASE_REQUESTS +
      p('patients') * 1.5 +
      p('contacts') +
      p('appointmentTypes') +
      p('appointments') +
      native +
      REQUESTS_PER_ATTACHMENT * (pdfs + p('letters') + p('fileUploads')) +
      u('patients') +
      u('contacts') +
      2 * u('appointments'),
  );
  const k = Math.max(1, keys);
  return {
    requests,
    keys: k,
    minutes: requests / (PER_KEY_PER_MINUTE * k),
    minutesAt4: requests / (PER_KEY_PER_MINUTE * 4),
  };
}

const minutes = (m: number) =>
  m < 1
    ? 'under a minute'
    : m < 60
      ? `${Math.round(m)} min`
      : `${Math.floor(m / 60)} h ${Math.round(m % 60)} min`;

/** "A live run: ≈ 11,200 Cliniko requests, ≈ 56 min at 1 key, ≈ 14 min at 4." */
export function liveEstimateLine(e: LiveEstimate): string {
  return `A live run: ≈ ${e.requests.toLocaleString('en-US')} Cliniko requests, ≈ ${minutes(e.minutes)} at ${e.keys} key${e.keys === 1 ? '' : 's'}${e.keys < 4 ? `, ≈ ${minutes(e.minutesAt4)} at 4` : ''} (200 requests a minute per key).`;
}
