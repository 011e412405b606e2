import type { CountedEntity } from '../core/entities.js';
import type { IdMapEntry } from '../ports/id-map.js';

/**
 * What the writer does with one record, decided once for the live writer
 * (lambdas/write/write-command.ts) and for a dry run's settle (lambdas/map-batch), so a dry run
 * counts what the following live run will: `create` is a dry run's `planned`, `alreadyPresent`
 * and `update` its `alreadyPresent` (and `updated`), as the live report counts them.
 *
 * - `create` (`new`): neither the clinic's id map nor the account holds the record.
 * - `update` (`changed`): an earlier run wrote it and the export's content hash differs (patients,
 *   contacts and appointments only; a hash left empty, a record found rather than written, is
 *   never overwritten). The live writer sends the new content; counted alreadyPresent + updated.
 * - `alreadyPresent`: `writtenEarlier` (the id map holds it from an earlier run, unchanged),
 *   `linked` (`existingPatients: "link"` adopts the clinic's own patient, docs/CONFIGURATION.md) or
 *   `foundInAccount` (reconciliation found it in the account under its natural key).
 * - `created` / `updated` (`thisRun`): this run already wrote (or updated) it, a redelivered
 *   message; only a live writer sees these (a dry run's id never writes the id map).
 */
export type WriteDecision =
  | { readonly action: 'create'; readonly why: 'new' }
  | { readonly action: 'update'; readonly why: 'changed'; readonly clinikoId: string }
  | {
      readonly action: 'alreadyPresent';
      readonly why: 'writtenEarlier' | 'linked' | 'foundInAccount';
      readonly clinikoId: string;
    }
  | { readonly action: 'created' | 'updated'; readonly why: 'thisRun'; readonly clinikoId: string };

export interface WriteDecisionInput {
  readonly entity: CountedEntity;
  /** The mapped record's content hash (payload.ts contentHash; '' when unknown). */
  readonly hash: string;
  /** The run deciding (a live run's id, or a dry run's, which no id-map entry ever carries). */
  readonly runId: string;
  /** The clinic's id-map entry for the record (a record only claimed has none). */
  readonly written?: IdMapEntry;
  /** The clinic's own Cliniko patient adopted by `existingPatients: "link"`. */
  readonly link?: { readonly clinikoId: string };
  /** The Cliniko id this run's reconciliation found under the record's natural key. */
  readonly found?: string;
}

/** Entities whose records are updated when a later export changes them (the others are kept). */
const UPDATED_ENTITIES: ReadonlySet<CountedEntity> = new Set(['patients', 'contacts', 'appointments']);

/** The one decision (see {@link WriteDecision}); pure: the caller reads the id map and findings. */
export function decideWrite(input: WriteDecisionInput): WriteDecision {
  const { written } = input;
  if (written) {
    const clinikoId = written.clinikoId;
    if (written.runId === input.runId) return { action: 'created', why: 'thisRun', clinikoId };
    if (written.updatedIn === input.runId) return { action: 'updated', why: 'thisRun', clinikoId };
    if (changed(input.entity, written, input.hash)) return { action: 'update', why: 'changed', clinikoId };
    return { action: 'alreadyPresent', why: 'writtenEarlier', clinikoId };
  }
  if (input.link) return { action: 'alreadyPresent', why: 'linked', clinikoId: input.link.clinikoId };
  if (input.found) return { action: 'alreadyPresent', why: 'foundInAccount', clinikoId: input.found };
  return { action: 'create', why: 'new' };
}

function changed(entity: CountedEntity, written: IdMapEntry, hash: string): boolean {
  return UPDATED_ENTITIES.has(entity) && written.hash !== '' && hash !== '' && written.hash !== hash;
}

/** How a live run's report counts a decision (an update is also present, report.ts). */
export function countedAs(decision: WriteDecision): 'planned' | 'alreadyPresent' | 'updated' {
  if (decision.action === 'create') return 'planned';
  if (decision.action === 'update' || decision.action === 'updated') return 'updated';
  return decision.action === 'created' ? 'planned' : 'alreadyPresent';
}
