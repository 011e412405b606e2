import type { z } from 'zod';
import type { MappedBatch } from '../../src/batch/map-rows.js';
import { payloadFor, type WrittenIds } from '../../src/batch/payload.js';
import { countedAs, decideWrite } from '../../src/batch/write-decision.js';
import type { CountedEntity, EntityKey } from '../../src/core/entities.js';
import { Problems } from '../../src/core/problem.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { keys } from '../../src/ports/bucket-keys.js';
import type { Findings, IdMap } from '../../src/ports/id-map.js';
import type { RunInfo } from '../../src/ports/runs.js';
import {
  accountKeys,
  naturalKeyHash,
  RECONCILE_ORDER,
  ReconcileSummary,
  type ResourceName,
  resourceOfCommand,
} from '../../src/reconcile/resources.js';
import { commandFor } from './commands.js';

export interface DrySettleDeps {
  readonly blobs: BlobStore;
  readonly store: IdMap & Findings;
}

/** What a dry run's batch would come to: of its planned rows, how many the live run finds present. */
export interface DrySettle {
  /** Planned rows the live run would not create: present (updated ones included). */
  readonly alreadyPresent: number;
  /** Of those, the ones the live run would update (their content changed since written). */
  readonly updated: number;
}

const goneCache = new Map<string, Promise<ReadonlySet<string>>>();

/**
 * The clinic's records this dry run's reconciliation saw gone from the account (NOT_IN_CLINIKO):
 * a live run forgets their ids and writes them again, so they are decided without their entry.
 * Cached per run (a container serves one run's batches); `entity#sourceId`.
 */
function goneFromAccount(deps: DrySettleDeps, run: RunInfo): Promise<ReadonlySet<string>> {
  let gone = goneCache.get(run.runId);
  if (!gone) {
    gone = (async () => {
      const set = new Set<string>();
      for (const name of RECONCILE_ORDER) {
        const problems = await deps.blobs.getJson(
          run.bucket,
          keys.problems(run.runId, `reconcile-${name}`),
          Problems,
        );
        for (const p of problems ?? []) if (p.code === 'NOT_IN_CLINIKO') set.add(`${p.entity}#${p.sourceId}`);
      }
      return set;
    })();
    goneCache.set(run.runId, gone);
    gone.catch(() => goneCache.delete(run.runId));
    // a container lives for many runs: only the latest few are kept
    if (goneCache.size > 8) goneCache.delete(goneCache.keys().next().value ?? '');
  }
  return gone;
}

/**
 * A dry run's settle (issue 24): each planned row decided as the live writer will decide it
 * (src/batch/write-decision.ts), from the same id map (the status table, read only) and the same
 * findings (what this run's reconciliation found in the account under the record's natural key),
 * so a repeat or delta dry run counts what the following live run creates, updates and finds.
 *
 * The natural key needs the Cliniko ids of a record's parents: taken from the id map (`ids`, as a
 * live MapBatch takes them); a parent that the live run will create first has none yet, so its
 * children cannot be in the account and are created. Notes and documents are decided by the id
 * map only (their bundles' keys are made when the live run writes them).
 */
export async function settleDry(
  run: RunInfo,
  mapped: MappedBatch,
  ids: WrittenIds,
  deps: DrySettleDeps,
): Promise<DrySettle> {
  const rows = mapped.rows.flatMap((r) => (r.outcome === 'planned' && r.dry ? [{ ...r, dry: r.dry }] : []));
  if (!rows.length) return { alreadyPresent: 0, updated: 0 };
  const entity: EntityKey = mapped.entity;
  const [written, gone] = await Promise.all([
    deps.store.getIdMap(run.scope, entity, [...new Set(rows.map((r) => r.dry.sourceId))]),
    goneFromAccount(deps, run),
  ]);
  const parents = await parentsAsLive(run, entity, rows, ids, deps);
  // one read of each resource's reconcile summary per batch, not one per row
  const summaries = new Map<ResourceName, Promise<z.output<typeof ReconcileSummary> | undefined>>();
  const summaryOf = (resource: ResourceName) => {
    let summary = summaries.get(resource);
    if (!summary) {
      summary = deps.blobs.getJson(run.bucket, accountKeys.summary(run.runId, resource), ReconcileSummary);
      summaries.set(resource, summary);
    }
    return summary;
  };
  const entries = rows.map((r) =>
    gone.has(`${entity}#${r.dry.sourceId}`) ? undefined : written.get(r.dry.sourceId),
  );
  // the natural keys of the rows the id map does not hold, then one batched read per resource
  const keyed = rows.map((r, i) =>
    entries[i] || r.dry.link || !r.planned ? undefined : naturalKeyOf(run, entity, r, parents),
  );
  const found = await foundInAccount(run, keyed, deps, summaryOf);
  let alreadyPresent = 0;
  let updated = 0;
  rows.forEach((r, i) => {
    const { hash, link } = r.dry;
    const entry = entries[i];
    const at = keyed[i];
    const foundId = at ? found.get(at.resource)?.get(at.key) : undefined;
    const counted = countedAs(
      decideWrite({
        entity,
        hash,
        runId: run.runId,
        ...(entry ? { written: entry } : {}),
        ...(link ? { link } : {}),
        ...(foundId ? { found: foundId } : {}),
      }),
    );
    if (counted === 'planned') return;
    alreadyPresent++;
    if (counted === 'updated') updated++;
  });
  return { alreadyPresent, updated };
}

/**
 * The Cliniko ids of an appointment batch's parents as the live run holds them when it writes the
 * batch: the id map's; for a patient the id map lacks, the one this run's reconciliation found in
 * the account under its reference (the live writer adopts it, and records its id, before its
 * appointments are written). A type the live run will create has no id yet, but an appointment's
 * natural key (patient, practitioner, start) does not hold it: a placeholder stands for it, so
 * an appointment of a found patient is found too.
 */
async function parentsAsLive(
  run: RunInfo,
  entity: EntityKey,
  rows: readonly MappedBatch['rows'][number][],
  ids: WrittenIds,
  deps: DrySettleDeps,
): Promise<WrittenIds> {
  if (entity !== 'appointments') return ids;
  const summary = await deps.blobs.getJson(
    run.bucket,
    accountKeys.summary(run.runId, 'patients'),
    ReconcileSummary,
  );
  const found = new Map<string, string>();
  if (summary?.found) {
    const unwritten = new Set(
      rows.flatMap((r) =>
        r.planned?.entity === 'appointments' && !ids.patient(r.planned.record.patientSourceId)
          ? [r.planned.record.patientSourceId]
          : [],
      ),
    );
    // the patients' natural key: the reference a live run writes, the source id (resources.ts)
    const keyOf = (sourceId: string) => naturalKeyHash(sourceId.trim());
    const adopted = await deps.store.getFoundMany(
      run.scope,
      'patients',
      run.runId,
      [...unwritten].map(keyOf),
    );
    for (const sourceId of unwritten) {
      const id = adopted.get(keyOf(sourceId));
      if (id) found.set(sourceId, id);
    }
  }
  return {
    patient: (sourceId) => ids.patient(sourceId) ?? found.get(sourceId),
    referrer: (sourceId) => ids.referrer(sourceId),
    appointmentType: (sourceId) => ids.appointmentType(sourceId) ?? TYPE_NOT_YET_WRITTEN,
    isDoctor: (sourceId) => ids.isDoctor(sourceId),
  };
}

/** Stands for a type's Cliniko id in an appointment's natural key, which never holds it. */
const TYPE_NOT_YET_WRITTEN = 'not-yet-written';

type PlannedRow = MappedBatch['rows'][number] & { dry: NonNullable<MappedBatch['rows'][number]['dry']> };

/**
 * The resource and hashed natural key (reconcile/resources.ts) of the command the live run would
 * send for a row; undefined for notes and documents (decided by the id map only) and for a row
 * whose command cannot be built yet.
 */
function naturalKeyOf(
  run: RunInfo,
  entity: CountedEntity,
  r: PlannedRow,
  ids: WrittenIds,
): { resource: ResourceName; key: string } | undefined {
  if (!r.planned || entity === 'clinicalNotes' || entity === 'letters' || entity === 'fileUploads')
    return undefined;
  const payload = payloadFor(
    r.planned,
    r.dry.mapped,
    { ...run, exportedAt: run.manifest?.exportedAt ?? run.startedAt },
    ids,
  );
  if ('missing' in payload || payload.kind === 'note') return undefined;
  const cmd = commandFor(run, {
    entity,
    sourceId: r.dry.sourceId,
    file: '',
    row: r.row,
    hash: r.dry.hash,
    payload,
  });
  const of = resourceOfCommand(cmd);
  return of ? { resource: of.resource.name, key: naturalKeyHash(of.key) } : undefined;
}

/**
 * What reconciliation found under these natural keys: resource → (hashed key → Cliniko id), read
 * with one batched look-up per resource (getFoundMany), not one GetItem per row: a dry run after
 * a live run of 150,000 appointments would otherwise wait on 150,000 sequential reads.
 */
async function foundInAccount(
  run: RunInfo,
  keyed: readonly ({ resource: ResourceName; key: string } | undefined)[],
  deps: DrySettleDeps,
  summaryOf: (resource: ResourceName) => Promise<z.output<typeof ReconcileSummary> | undefined>,
): Promise<Map<ResourceName, Map<string, string>>> {
  const byResource = new Map<ResourceName, string[]>();
  for (const k of keyed) {
    if (!k) continue;
    const keys = byResource.get(k.resource);
    if (keys) keys.push(k.key);
    else byResource.set(k.resource, [k.key]);
  }
  const found = new Map<ResourceName, Map<string, string>>();
  for (const [resource, keys] of byResource) {
    // Nothing found in the account for this resource (a fresh account): no look-up at all.
    if (!(await summaryOf(resource))?.found) continue;
    found.set(resource, await deps.store.getFoundMany(run.scope, resource, run.runId, keys));
  }
  return found;
}
