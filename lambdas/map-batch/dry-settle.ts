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
  let alreadyPresent = 0;
  let updated = 0;
  for (const r of rows) {
    const { sourceId, hash, link } = r.dry;
    const entry = gone.has(`${entity}#${sourceId}`) ? undefined : written.get(sourceId);
    const found =
      entry || link || !r.planned
        ? undefined
        : await foundInAccount(run, entity, r, parents, deps, summaryOf);
    const counted = countedAs(
      decideWrite({
        entity,
        hash,
        runId: run.runId,
        ...(entry ? { written: entry } : {}),
        ...(link ? { link } : {}),
        ...(found ? { found } : {}),
      }),
    );
    if (counted === 'planned') continue;
    alreadyPresent++;
    if (counted === 'updated') updated++;
  }
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
    for (const sourceId of unwritten) {
      // the patients' natural key: the reference a live run writes, the source id (resources.ts)
      const id = await deps.store.getFound(run.scope, 'patients', run.runId, naturalKeyHash(sourceId.trim()));
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

/** What reconciliation found under the natural key of the command the live run would send. */
async function foundInAccount(
  run: RunInfo,
  entity: CountedEntity,
  r: MappedBatch['rows'][number] & { dry: NonNullable<MappedBatch['rows'][number]['dry']> },
  ids: WrittenIds,
  deps: DrySettleDeps,
  summaryOf: (resource: ResourceName) => Promise<z.output<typeof ReconcileSummary> | undefined>,
): Promise<string | undefined> {
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
  // Nothing found in the account for this resource (a fresh account): no look-up per record.
  const summary = of ? await summaryOf(of.resource.name) : undefined;
  return of && summary?.found
    ? deps.store.getFound(run.scope, of.resource.name, run.runId, naturalKeyHash(of.key))
    : undefined;
}
