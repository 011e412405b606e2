import type { ClinikoClient } from '../../src/cliniko/client.js';
import { idFromLink, listPage } from '../../src/cliniko/schemas.js';
import { type CountedEntity, isSupportEntity } from '../../src/core/entities.js';
import type { Problem } from '../../src/core/problem.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { keys } from '../../src/ports/bucket-keys.js';
import type { Findings, IdMap } from '../../src/ports/id-map.js';
import type { RunInfo, RunStore } from '../../src/ports/runs.js';
import type { AccountPatientRef } from '../../src/reconcile/duplicates.js';
import { AccountPatientRefs } from '../../src/reconcile/duplicates.js';
import {
  AccountRecord,
  accountKeys,
  LiveIds,
  naturalKeyHash,
  RECONCILE_ORDER,
  type ReconcileOutput,
  resource,
} from '../../src/reconcile/resources.js';
import type { ReconcileInput } from './io.js';

export interface ReconcileDeps {
  readonly store: RunStore & IdMap & Findings;
  readonly blobs: BlobStore;
  readonly cliniko: (run: RunInfo) => Promise<ClinikoClient>;
}

/** A patient of the account as the probable-duplicate check reads it (no more than it needs). */
export type AccountPatient = AccountPatientRef;

export async function reconcile(input: ReconcileInput, deps: ReconcileDeps): Promise<ReconcileOutput> {
  const run = await deps.store.getRun(input.runId);
  const res = resource(input.resource);
  const client = await deps.cliniko(run);
  const before = client.counter.total;
  const { records, livePatients } = await readAccount(client, res, run, deps);

  // A record of a patient no longer in the account goes with its patient: it is written again
  // under the patient written again, never left on the archived one.
  const live = new Map<string, AccountRecord>();
  for (const r of records)
    if (!r.archived_at && (!livePatients || livePatients.has(idFromLink(r.patient) ?? ''))) live.set(r.id, r);

  const problems: Problem[] = [];
  const referenced = new Set<string>();
  let notInCliniko = 0;
  // An entity whose records may be of several resources (a note: a PDF or a treatment note) is
  // checked by the last of them, with the live ids the earlier ones left.
  const position = RECONCILE_ORDER.indexOf(res.name);
  const coveredLater = (entity: CountedEntity) =>
    RECONCILE_ORDER.slice(position + 1).some((n) => resource(n).entities.includes(entity));
  if (res.entities.some(coveredLater))
    await deps.blobs.putJson(run.bucket, accountKeys.liveIds(run.runId, res.name), [...live.keys()]);
  for (const entity of res.entities) {
    const checkHere = !coveredLater(entity);
    const elsewhere = new Set<string>();
    if (checkHere)
      for (const n of RECONCILE_ORDER.slice(0, position))
        if (resource(n).entities.includes(entity))
          for (const id of (await deps.blobs.getJson(
            run.bucket,
            accountKeys.liveIds(run.runId, n),
            LiveIds,
          )) ?? [])
            elsewhere.add(id);
    const gone: { sourceId: string; clinikoId: string; runId: string }[] = [];
    for await (const { sourceId, entry } of deps.store.listIdMap(run.scope, entity)) {
      if (live.has(entry.clinikoId)) referenced.add(entry.clinikoId);
      else if (checkHere && !elsewhere.has(entry.clinikoId))
        gone.push({ sourceId, clinikoId: entry.clinikoId, runId: entry.runId });
    }
    for (const g of gone) {
      if (run.mode === 'live') await deps.store.deleteIdMap(run.scope, entity, g.sourceId);
      // a notes PDF's own key is no source row: its notes are reported
      if (g.sourceId.startsWith('notes:') || isSupportEntity(entity)) continue;
      notInCliniko++;
      problems.push({
        entity,
        sourceId: g.sourceId,
        file: '',
        row: 0,
        field: '',
        code: 'NOT_IN_CLINIKO',
        severity: 'warning',
        message: `written to Cliniko as id ${g.clinikoId} by run ${g.runId}, but that record is no longer in this account (deleted or archived): ${run.mode === 'live' ? 'written again' : 'a live run writes it again'}, never counted present`,
      });
    }
  }

  const found: { key: string; clinikoId: string }[] = [];
  for (const r of live.values()) {
    if (referenced.has(r.id)) continue;
    const key = res.keyOfRecord(r);
    if (key !== undefined) found.push({ key: naturalKeyHash(key), clinikoId: r.id });
  }
  if (run.mode === 'live' && found.length) await deps.store.putFound(run.scope, res.name, run.runId, found);

  if (res.name === 'patients')
    await deps.blobs.putJson(
      run.bucket,
      accountKeys.patients(run.runId),
      [...live.values()].map(accountPatient),
    );
  const out: ReconcileOutput = {
    resource: res.name,
    read: records.length,
    requests: client.counter.total - before,
    notInCliniko,
    found: found.length,
  };
  await deps.blobs.putJson(run.bucket, accountKeys.summary(run.runId, res.name), out);
  await deps.blobs.putJson(run.bucket, keys.problems(run.runId, `reconcile-${res.name}`), problems);
  return out;
}

function accountPatient(r: AccountRecord): AccountPatient {
  return {
    id: r.id,
    ...(r.old_reference_id ? { oldReferenceId: r.old_reference_id } : {}),
    firstName: r.first_name ?? '',
    lastName: r.last_name ?? '',
    ...(r.date_of_birth ? { dateOfBirth: r.date_of_birth } : {}),
    ...(r.email ? { email: r.email } : {}),
    phones: (r.patient_phone_numbers ?? [])
      .map((p) => (p.number ?? '').replace(/\D/g, ''))
      .filter((p) => p.length >= 6),
  };
}

/**
 * Every record of the resource a run may have written. Appointments and attachments are read for
 * the migrated patients only: page by page when the whole list is fewer requests than one list
 * per patient, else one filtered list per patient; none at all when no patient was migrated.
 */
async function readAccount(
  client: ClinikoClient,
  res: ReturnType<typeof resource>,
  run: RunInfo,
  deps: ReconcileDeps,
): Promise<{ records: AccountRecord[]; livePatients?: ReadonlySet<string> }> {
  if (!res.perPatient) return { records: await readAll(client, res.path, res.collection, res.filters) };
  const patients =
    (await deps.blobs.getJson(run.bucket, accountKeys.patients(run.runId), AccountPatientRefs)) ?? [];
  const livePatients = new Set(patients.map((p) => p.id));
  const migrated = patients.filter((p) => p.oldReferenceId).map((p) => p.id);
  if (!migrated.length) return { records: [], livePatients };
  const out: AccountRecord[] = [];
  const first = await readPage(client, firstUrl(client, res.path, res.filters), res.collection);
  const pages = Math.ceil(first.totalEntries / 100);
  if (pages <= migrated.length) {
    out.push(...first.items);
    if (first.next) out.push(...(await readAll(client, first.next, res.collection, [])));
    return { records: out, livePatients };
  }
  let next = 0;
  const worker = async () => {
    while (next < migrated.length) {
      const id = migrated[next++];
      if (!id) continue;
      const items = await readAll(client, res.path, res.collection, [...res.filters, `patient_id:=${id}`]);
      out.push(...items);
    }
  };
  // a few lists at once: the client's rate limiter keeps the pace
  await Promise.all([worker(), worker(), worker(), worker()]);
  return { records: out, livePatients };
}

function firstUrl(client: ClinikoClient, path: string, filters: readonly string[]): string {
  const q = new URLSearchParams({ per_page: '100' });
  for (const f of filters) q.append('q[]', f);
  return `${client.baseUrl}${path}?${q.toString()}`;
}

async function readPage(client: ClinikoClient, url: string, collection: string) {
  return client.call('GET', url, { schema: listPage(collection, AccountRecord) });
}

async function readAll(
  client: ClinikoClient,
  pathOrUrl: string,
  collection: string,
  filters: readonly string[],
): Promise<AccountRecord[]> {
  const out: AccountRecord[] = [];
  let next: string | undefined = pathOrUrl.startsWith('http')
    ? pathOrUrl
    : firstUrl(client, pathOrUrl, filters);
  while (next) {
    const page = await readPage(client, next, collection);
    out.push(...page.items);
    next = page.next;
  }
  return out;
}
