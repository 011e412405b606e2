import { z } from 'zod';
import type { CountedEntity } from '../core/entities.js';

/**
 * The id map port: each record's Cliniko id, kept per clinic in one Cliniko account (the scope,
 * RunInfo.scope) across runs, the claims that keep two writers from creating one record, and what
 * reconciliation found in the account. The key to never writing a record twice.
 */
export const IdMapEntry = z
  .object({
    clinikoId: z.string(),
    /** The mapped body's hash when written (empty when unknown): a changed record is updated. */
    hash: z.string().default(''),
    runId: z.string(),
    /** ISO 8601 UTC. */
    at: z.string(),
    /**
     * Follow-up requests already done (alerts, referral, cancel, arrival), and each medical alert
     * a patient's follow-up created (medicalAlertStep): the run's own, which rollback tells from
     * those a clinic adds later.
     */
    steps: z.array(z.string()).readonly().default([]),
    /** The latest run that updated the record in Cliniko because its content had changed. */
    updatedIn: z.string().optional(),
  })
  .readonly();
export type IdMapEntry = z.output<typeof IdMapEntry>;

const MEDICAL_ALERT_STEP = 'medical_alert:';

/**
 * The step that records a medical alert a run created after a patient (its Cliniko id): noted as
 * each is created, so a rollback knows the run's own alerts by id, not by name or time (a clinician
 * may add an alert of the same name, or within the same second).
 */
export const medicalAlertStep = (clinikoId: string): string => `${MEDICAL_ALERT_STEP}${clinikoId}`;

/** The Cliniko ids of the medical alerts an entry's steps record (see medicalAlertStep). */
export function medicalAlertsOf(entry: Pick<IdMapEntry, 'steps'>): string[] {
  return entry.steps.flatMap((s) =>
    s.startsWith(MEDICAL_ALERT_STEP) ? [s.slice(MEDICAL_ALERT_STEP.length)] : [],
  );
}

/** `scope` everywhere: the clinic in one Cliniko account (RunInfo.scope), never the bare clinic id. */
export interface IdMap {
  /** The written records among these source ids (a record only claimed is not in the map). */
  getIdMap(
    scope: string,
    entity: CountedEntity,
    sourceIds: readonly string[],
  ): Promise<Map<string, IdMapEntry>>;
  putIdMap(scope: string, entity: CountedEntity, sourceId: string, entry: IdMapEntry): Promise<void>;
  /** Every record of an entity the clinic's runs have written (for records missing from an export). */
  listIdMap(scope: string, entity: CountedEntity): AsyncIterable<{ sourceId: string; entry: IdMapEntry }>;
  /**
   * One page of listIdMap, to carry on from in a later invocation: at most `limit` items read
   * (written records among them), and the opaque cursor of the next page (absent after the last).
   */
  listIdMapPage(
    scope: string,
    entity: CountedEntity,
    page: { readonly cursor?: string; readonly limit: number },
  ): Promise<{ records: { sourceId: string; entry: IdMapEntry }[]; cursor?: string }>;
  /** Notes a follow-up request done (see IdMapEntry.steps), so a retry does not repeat it. */
  addIdMapStep(scope: string, entity: CountedEntity, sourceId: string, step: string): Promise<void>;
  /** Forgets a record's id (it is no longer in the account: reconciliation, rollback). */
  deleteIdMap(scope: string, entity: CountedEntity, sourceId: string): Promise<void>;
}

/** What `claim` answers, see Claims.claim. */
export type ClaimResult = 'claimed' | 'taken-over' | 'busy' | 'done';

export interface Claims {
  /**
   * Claims the right to create a record, so two writers holding copies of one command never both
   * create it. `busy`: another writer's claim is live; `taken-over`: an earlier claim expired (its
   * writer may have created the record before dying, so re-find first); `done`: already written.
   * `ttlMs` and `now` in milliseconds (epoch).
   */
  claim(
    scope: string,
    entity: CountedEntity,
    sourceId: string,
    owner: string,
    ttlMs: number,
    now: number,
  ): Promise<ClaimResult>;
  /** Gives a claim up after a failed attempt, so the retry (or another copy) can take it at once. */
  releaseClaim(scope: string, entity: CountedEntity, sourceId: string, owner: string): Promise<void>;
}

export interface Findings {
  /**
   * Records that a run's reconciliation found in the account, not in the id map, by natural key
   * (hashed, see reconcile/resources.ts): a writer adopts one instead of creating it again.
   */
  putFound(
    scope: string,
    resource: string,
    runId: string,
    found: readonly { readonly key: string; readonly clinikoId: string }[],
  ): Promise<void>;
  /** What this run's reconciliation found under a natural key (only this run's findings count). */
  getFound(scope: string, resource: string, runId: string, key: string): Promise<string | undefined>;
  /**
   * getFound for many natural keys of one resource at once (a dry run's batch): natural key →
   * Cliniko id, holding only the keys this run's reconciliation found (duplicates read once).
   * Answers what getFound answers key by key, in a few round trips instead of one per key.
   */
  getFoundMany(
    scope: string,
    resource: string,
    runId: string,
    keys: readonly string[],
  ): Promise<Map<string, string>>;
  /**
   * A writer's first question in one read: the record's id map entry (`written`, absent while only
   * claimed) and, when `finding` is given, the Cliniko id this run's reconciliation found under
   * its natural key (`found`, as getFound answers). One round trip instead of two for every write.
   */
  lookupRecord(
    scope: string,
    entity: CountedEntity,
    sourceId: string,
    finding?: { readonly resource: string; readonly runId: string; readonly key: string },
  ): Promise<{ written?: IdMapEntry; found?: string }>;
}
