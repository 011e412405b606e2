import type { z } from 'zod';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import { idFromLink, listPage } from '../../src/cliniko/schemas.js';
import { type CountedEntity, isSupportEntity } from '../../src/core/entities.js';
import { type Problem, Problems } from '../../src/core/problem.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { keys } from '../../src/ports/bucket-keys.js';
import type { Findings, IdMap } from '../../src/ports/id-map.js';
import type { RunInfo, RunStore } from '../../src/ports/runs.js';
import { accountPatients } from '../../src/reconcile/account-patients.js';
import {
  type AccountRow,
  AccountRows,
  checkpointKeys,
  type IdRow,
  IdRows,
  PARTITION_RECORDS,
  partitionOf,
  partitionsFor,
  ReconcileCheckpoint,
} from '../../src/reconcile/checkpoint.js';
import type { AccountPatientRef } from '../../src/reconcile/duplicates.js';
import {
  AccountRecord,
  accountKeys,
  naturalKeyHash,
  RECONCILE_ORDER,
  type ReconciledResource,
  type ResourceName,
  resource,
} from '../../src/reconcile/resources.js';
import type { ReconcileInput, ReconcileOutput } from './io.js';

export interface ReconcileDeps {
  readonly store: RunStore & IdMap & Findings;
  readonly blobs: BlobStore;
  readonly cliniko: (run: RunInfo) => Promise<ClinikoClient>;
}

/** A patient of the account as the probable-duplicate check reads it (no more than it needs). */
export type AccountPatient = AccountPatientRef;

/**
 * How long an invocation may go on: `timeLeft()` in ms (the Lambda context's
 * getRemainingTimeInMillis on AWS), and `reserveMs` kept in hand: no new page or partition starts
 * with less left, so the invocation saves its checkpoint well before its timeout.
 */
export interface ReconcileBudget {
  readonly timeLeft: () => number;
  readonly reserveMs: number;
  /** Records per partition (PARTITION_RECORDS; smaller in tests). */
  readonly partitionRecords?: number;
}

/** A budget of `ms` from now, as a function without a Lambda context has. */
export function budgetOf(ms: number, reserveMs: number): ReconcileBudget {
  const end = Date.now() + ms;
  return { timeLeft: () => end - Date.now(), reserveMs };
}

/** Id-map items read per page (a DynamoDB query page stays well under its 1 MB). */
const ID_PAGE = 1_000;
/** Migrated patients whose filtered lists are read at once (the client's rate limiter keeps the pace). */
const PATIENTS_AT_ONCE = 4;

/**
 * Reconciles one resource of the account with the clinic's id map, for as long as `budget`
 * allows, carrying on from the checkpoint an earlier invocation left (checkpoint.ts): reads the
 * account's records page by page, lists the id map, then matches them a partition at a time. Ids
 * no longer in the account are forgotten (live runs) and reported NOT_IN_CLINIKO; records the id
 * map does not know are kept as findings by natural key (live runs). Returns `done: false` until
 * the resource is finished: the state machine calls it again. The figures are the resource's so
 * far (all of it once done), and once done they, the problems and (patients) the index of the
 * account's live patients are in the bucket for Plan, the mappers and the report.
 */
export async function reconcile(
  input: ReconcileInput,
  deps: ReconcileDeps,
  budget: ReconcileBudget = budgetOf(10 * 60_000, 60_000),
): Promise<ReconcileOutput> {
  const run = await deps.store.getRun(input.runId);
  const res = resource(input.resource);
  const client = await deps.cliniko(run);
  const before = client.counter.total;
  const ctx: Context = {
    run,
    res,
    deps,
    client,
    perPartition: budget.partitionRecords ?? PARTITION_RECORDS,
    accountBuffer: new Map(),
    idBuffer: new Map(),
    patientBuffer: [],
  };
  const cpKey = checkpointKeys.checkpoint(run.runId, res.name);
  const cp = (await deps.blobs.getJson(run.bucket, cpKey, ReconcileCheckpoint)) ?? (await start(ctx));
  // a unit (a page, an id-map page, a partition) starts only if the slowest so far still fits
  let slowest = 0;
  const hasTime = () => budget.timeLeft() > budget.reserveMs + slowest;
  while (cp.step !== 'done' && hasTime()) {
    const step = cp.step;
    const unitStarted = Date.now();
    if (step === 'read') await readSome(ctx, cp);
    else if (step === 'idmap') await listIdMapPage(ctx, cp);
    else await matchPartition(ctx, cp);
    // what the next step reads must be in the bucket first
    if (cp.step !== step || bufferedRows(ctx) >= ctx.perPartition) await flush(ctx, cp);
    slowest = Math.max(slowest, Date.now() - unitStarted);
  }
  await flush(ctx, cp);
  cp.requests += client.counter.total - before;
  cp.invocations++;
  const out = {
    resource: res.name,
    read: cp.read,
    requests: cp.requests,
    notInCliniko: cp.notInCliniko,
    found: cp.found,
  };
  if (cp.step === 'done') await finish(ctx, cp, out);
  await deps.blobs.putJson(run.bucket, cpKey, cp);
  return { runId: run.runId, ...out, done: cp.step === 'done', invocations: cp.invocations };
}

interface Context {
  readonly run: RunInfo;
  readonly res: ReconciledResource;
  readonly deps: ReconcileDeps;
  readonly client: ClinikoClient;
  readonly perPartition: number;
  /** Rows read in this invocation and not yet written, by partition. */
  readonly accountBuffer: Map<number, AccountRow[]>;
  readonly idBuffer: Map<number, IdRow[]>;
  readonly patientBuffer: AccountPatient[];
  /** The account's live patients (per-patient resources), loaded once per invocation. */
  livePatients?: ReadonlySet<string>;
  migrated?: readonly string[];
}

const bufferedRows = (ctx: Context) =>
  [...ctx.accountBuffer.values(), ...ctx.idBuffer.values()].reduce((n, rows) => n + rows.length, 0) +
  ctx.patientBuffer.length;

/** The first invocation: how to read the account, and over how many partitions (from total_entries). */
async function start(ctx: Context): Promise<ReconcileCheckpoint> {
  const { res, client } = ctx;
  const initial = (partitions: number, readBy: ReconcileCheckpoint['readBy']): ReconcileCheckpoint => ({
    step: 'read',
    partitions,
    readBy,
    nextPatient: 0,
    accountFiles: Array.from({ length: partitions }, () => 0),
    idFiles: Array.from({ length: partitions }, () => 0),
    patientFiles: 0,
    idEntity: 0,
    joinPartition: 0,
    read: 0,
    requests: 0,
    notInCliniko: 0,
    found: 0,
    invocations: 0,
  });
  const migrated = res.perPatient ? await migratedPatients(ctx) : [];
  // no patient migrated: nothing of theirs to read
  if (res.perPatient && !migrated.length) return initial(1, 'patients');
  const first = await readPage(client, firstUrl(client, res.path, res.filters), res.collection);
  const partitions = partitionsFor(first.totalEntries, ctx.perPartition);
  // page by page when the whole list is fewer requests than one list per patient
  if (res.perPatient && migrated.length < Math.ceil(first.totalEntries / 100))
    return initial(partitions, 'patients');
  const cp = initial(partitions, 'pages');
  for (const r of first.items) keep(ctx, cp, r);
  if (first.next) cp.nextPage = first.next;
  else cp.step = 'idmap';
  return cp;
}

/** The account's live patients (ids) and the migrated ones among them, read once per invocation. */
async function migratedPatients(ctx: Context): Promise<readonly string[]> {
  if (!ctx.migrated) {
    const live = new Set<string>();
    const migrated: string[] = [];
    for await (const p of accountPatients(ctx.deps.blobs, ctx.run.bucket, ctx.run.runId)) {
      live.add(p.id);
      if (p.oldReferenceId) migrated.push(p.id);
    }
    ctx.livePatients = live;
    ctx.migrated = migrated;
  }
  return ctx.migrated;
}

/** Reads one page of the account (or the lists of a few migrated patients) into the partitions. */
async function readSome(ctx: Context, cp: ReconcileCheckpoint): Promise<void> {
  const { res, client } = ctx;
  if (res.perPatient) await migratedPatients(ctx);
  if (cp.readBy === 'pages') {
    if (!cp.nextPage) {
      cp.step = 'idmap';
      return;
    }
    const page = await readPage(client, cp.nextPage, res.collection);
    for (const r of page.items) keep(ctx, cp, r);
    if (page.next) cp.nextPage = page.next;
    else {
      delete cp.nextPage;
      cp.step = 'idmap';
    }
    return;
  }
  const migrated = ctx.migrated ?? [];
  const ids = migrated.slice(cp.nextPatient, cp.nextPatient + PATIENTS_AT_ONCE);
  const lists = await Promise.all(
    ids.map((id) => readAll(client, res.path, res.collection, [...res.filters, `patient_id:=${id}`])),
  );
  for (const r of lists.flat()) keep(ctx, cp, r);
  cp.nextPatient += ids.length;
  if (cp.nextPatient >= migrated.length) cp.step = 'idmap';
}

/** One record of the account into its partition (and, a live patient, into the patients' files). */
function keep(ctx: Context, cp: ReconcileCheckpoint, r: AccountRecord): void {
  cp.read++;
  // A record of a patient no longer in the account goes with its patient: it is written again
  // under the patient written again, never left on the archived one.
  const live = !r.archived_at && (!ctx.livePatients || ctx.livePatients.has(idFromLink(r.patient) ?? ''));
  const key = live ? ctx.res.keyOfRecord(r) : undefined;
  push(ctx.accountBuffer, partitionOf(r.id, cp.partitions), [
    r.id,
    live ? 1 : 0,
    key === undefined ? '' : naturalKeyHash(key),
  ]);
  if (live && ctx.res.name === 'patients') ctx.patientBuffer.push(accountPatient(r));
}

/** One page of the id map's entries of the resource's entities, into their partitions. */
async function listIdMapPage(ctx: Context, cp: ReconcileCheckpoint): Promise<void> {
  const entity = ctx.res.entities[cp.idEntity];
  if (!entity) {
    cp.step = 'join';
    return;
  }
  const page = await ctx.deps.store.listIdMapPage(ctx.run.scope, entity, {
    limit: ID_PAGE,
    ...(cp.idCursor ? { cursor: cp.idCursor } : {}),
  });
  for (const { sourceId, entry } of page.records)
    push(ctx.idBuffer, partitionOf(entry.clinikoId, cp.partitions), [
      entity,
      sourceId,
      entry.clinikoId,
      entry.runId,
    ]);
  if (page.cursor) cp.idCursor = page.cursor;
  else {
    delete cp.idCursor;
    cp.idEntity++;
  }
}

/**
 * Matches one partition: the id map's entries against the account's records of the same Cliniko
 * ids. An entity whose records may be of several resources (a note: a PDF or a treatment note) is
 * checked by the last of them, against the live records the earlier ones read.
 */
async function matchPartition(ctx: Context, cp: ReconcileCheckpoint): Promise<void> {
  const { run, res, deps } = ctx;
  const p = cp.joinPartition;
  if (p >= cp.partitions) {
    cp.step = 'done';
    return;
  }
  const records = new Map<string, { live: boolean; key: string }>();
  for (const rows of await partitionFiles(ctx, AccountRows, cp.accountFiles[p] ?? 0, (f) =>
    checkpointKeys.account(run.runId, res.name, p, f),
  ))
    for (const [id, live, key] of rows) records.set(id, { live: live === 1, key });
  const position = RECONCILE_ORDER.indexOf(res.name);
  const coveredLater = (entity: CountedEntity) =>
    RECONCILE_ORDER.slice(position + 1).some((n) => resource(n).entities.includes(entity));

  const referenced = new Set<string>();
  const candidates: IdRow[] = [];
  for (const rows of await partitionFiles(ctx, IdRows, cp.idFiles[p] ?? 0, (f) =>
    checkpointKeys.idMap(run.runId, res.name, p, f),
  ))
    for (const row of rows) {
      if (records.get(row[2])?.live) referenced.add(row[2]);
      else if (!coveredLater(row[0])) candidates.push(row);
    }
  const elsewhere = await liveInEarlier(ctx, position, candidates);

  const problems: Problem[] = [];
  for (const [entity, sourceId, clinikoId, runId] of candidates) {
    if (elsewhere.has(clinikoId)) continue;
    if (run.mode === 'live') await deps.store.deleteIdMap(run.scope, entity, sourceId);
    // a notes PDF's own key is no source row: its notes are reported
    if (sourceId.startsWith('notes:') || isSupportEntity(entity)) continue;
    cp.notInCliniko++;
    problems.push({
      entity,
      sourceId,
      file: '',
      row: 0,
      field: '',
      code: 'NOT_IN_CLINIKO',
      severity: 'warning',
      message: `written to Cliniko as id ${clinikoId} by run ${runId}, but that record is no longer in this account (deleted or archived): ${run.mode === 'live' ? 'written again' : 'a live run writes it again'}, never counted present`,
    });
  }
  const found: { key: string; clinikoId: string }[] = [];
  for (const [id, r] of records)
    if (r.live && r.key && !referenced.has(id)) found.push({ key: r.key, clinikoId: id });
  // Kept in a dry run too (under its own run id, which no writer serves): its settle adopts as live.
  if (found.length) await deps.store.putFound(run.scope, res.name, run.runId, found);
  cp.found += found.length;
  await deps.blobs.putJson(run.bucket, checkpointKeys.problems(run.runId, res.name, p), problems);
  cp.joinPartition++;
}

/** Of `candidates`, the Cliniko ids live in an earlier resource holding the same entity. */
async function liveInEarlier(
  ctx: Context,
  position: number,
  candidates: readonly IdRow[],
): Promise<Set<string>> {
  const live = new Set<string>();
  for (const name of RECONCILE_ORDER.slice(0, position)) {
    const ids = candidates.filter((c) => resource(name).entities.includes(c[0])).map((c) => c[2]);
    if (!ids.length) continue;
    const earlier = await ctx.deps.blobs.getJson(
      ctx.run.bucket,
      checkpointKeys.checkpoint(ctx.run.runId, name),
      ReconcileCheckpoint,
    );
    if (!earlier) continue;
    // one partition of the earlier resource at a time, for the ids that fall in it
    const byPartition = new Map<number, Set<string>>();
    for (const id of ids) {
      const p = partitionOf(id, earlier.partitions);
      byPartition.set(p, (byPartition.get(p) ?? new Set()).add(id));
    }
    for (const [p, wanted] of byPartition)
      for (const rows of await partitionFiles(ctx, AccountRows, earlier.accountFiles[p] ?? 0, (f) =>
        checkpointKeys.account(ctx.run.runId, name, p, f),
      ))
        for (const [id, isLive] of rows) if (isLive === 1 && wanted.has(id)) live.add(id);
  }
  return live;
}

/** The files of one partition, each parsed by `schema` (an absent one as empty). */
async function partitionFiles<T>(
  ctx: Context,
  schema: z.ZodType<T[]>,
  files: number,
  key: (file: number) => string,
): Promise<T[][]> {
  const out: T[][] = [];
  for (let f = 0; f < files; f++)
    out.push((await ctx.deps.blobs.getJson(ctx.run.bucket, key(f), schema)) ?? []);
  return out;
}

/** Writes what this invocation holds to the partitions' next files, and counts them in the checkpoint. */
async function flush(ctx: Context, cp: ReconcileCheckpoint): Promise<void> {
  const { run, res, deps } = ctx;
  for (const [p, rows] of ctx.accountBuffer) {
    const file = cp.accountFiles[p] ?? 0;
    await deps.blobs.putJson(run.bucket, checkpointKeys.account(run.runId, res.name, p, file), rows);
    cp.accountFiles[p] = file + 1;
  }
  ctx.accountBuffer.clear();
  for (const [p, rows] of ctx.idBuffer) {
    const file = cp.idFiles[p] ?? 0;
    await deps.blobs.putJson(run.bucket, checkpointKeys.idMap(run.runId, res.name, p, file), rows);
    cp.idFiles[p] = file + 1;
  }
  ctx.idBuffer.clear();
  if (ctx.patientBuffer.length) {
    const patients = ctx.patientBuffer.splice(0);
    await deps.blobs.putJson(run.bucket, checkpointKeys.patients(run.runId, cp.patientFiles), patients);
    cp.patientFiles++;
  }
}

/** The resource is done: its figures, its problems in one file, and (patients) the index of the account's patients. */
async function finish(
  ctx: Context,
  cp: ReconcileCheckpoint,
  out: Omit<ReconcileOutput, 'runId' | 'done' | 'invocations'>,
) {
  const { run, res, deps } = ctx;
  // NOT_IN_CLINIKO problems are the clinic's own records gone from the account: few, whatever its size
  const problems: Problem[] = [];
  for (let p = 0; p < cp.partitions; p++)
    problems.push(
      ...((await deps.blobs.getJson(run.bucket, checkpointKeys.problems(run.runId, res.name, p), Problems)) ??
        []),
    );
  await deps.blobs.putJson(run.bucket, keys.problems(run.runId, `reconcile-${res.name}`), problems);
  if (res.name === 'patients')
    await deps.blobs.putJson(run.bucket, accountKeys.patients(run.runId), { files: cp.patientFiles });
  await deps.blobs.putJson(run.bucket, accountKeys.summary(run.runId, res.name), out);
}

function push<R>(buffer: Map<number, R[]>, partition: number, row: R): void {
  const rows = buffer.get(partition);
  if (rows) rows.push(row);
  else buffer.set(partition, [row]);
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

function firstUrl(client: ClinikoClient, path: string, filters: readonly string[]): string {
  const q = new URLSearchParams({ per_page: '100' });
  for (const f of filters) q.append('q[]', f);
  return `${client.baseUrl}${path}?${q.toString()}`;
}

async function readPage(client: ClinikoClient, url: string, collection: string) {
  return client.call('GET', url, { schema: listPage(collection, AccountRecord) });
}

/** Every page of one migrated patient's filtered list (a patient's records: few). */
async function readAll(
  client: ClinikoClient,
  path: string,
  collection: string,
  filters: readonly string[],
): Promise<AccountRecord[]> {
  const out: AccountRecord[] = [];
  let next: string | undefined = firstUrl(client, path, filters);
  while (next) {
    const page = await readPage(client, next, collection);
    out.push(...page.items);
    next = page.next;
  }
  return out;
}

export type { ResourceName };
