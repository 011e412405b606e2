import type { MigrationConfig } from '../config/migration-config.js';
import type { EntityCounts, EntityKey } from '../core/entities.js';

/**
 * What the live run of a dry run's plan will cost (issue 15): Cliniko requests and wall-clock time
 * at the configured keys' rate limit (200 requests a minute per key, Cliniko's API documentation;
 * 96 % of it used, as the writers keep a margin). Per planned record: one create; a patient's
 * follow-ups (medical alerts, referral) about half a request more; an attachment (a notes PDF, a
 * letter, an upload) four: presigned post, upload, create, and a look at its processing. Calibrated
 * on a live run of `generate --patients 60` (1,296 requests against 1,250 estimated).
 */
export interface LiveEstimate {
  readonly requests: number;
  readonly keys: number;
  /** Minutes at `keys` keys, and at 4 keys for comparison. */
  readonly minutes: number;
  readonly minutesAt4: number;
}

const PREFLIGHT_REQUESTS = 10;
/** Requests a minute one key writes: Cliniko's 200, of which the writers use 96 %. */
export const PER_KEY_PER_MINUTE = 200 * 0.96;

export function estimateLive(
  planned: Record<EntityKey, Pick<EntityCounts, 'planned'> & Partial<Pick<EntityCounts, 'updated'>>>,
  config: Pick<MigrationConfig, 'clinicalNotes'>,
  keys: number,
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
    PREFLIGHT_REQUESTS +
      p('patients') * 1.5 +
      p('contacts') +
      p('appointmentTypes') +
      p('appointments') +
      native +
      4 * (pdfs + p('letters') + p('fileUploads')) +
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
