import { z } from 'zod';
import type { ClinikoClient } from '../cliniko/client.js';
import { ClinikoId } from '../cliniko/schemas.js';

/**
 * One writer per Cliniko account (issue 23; docs/ARCHITECTURE.md "One writer per Cliniko
 * account"). Cliniko has no compare-and-swap, so the lease is a set of marker records in the
 * account itself, one per runner that asked for it: each runner creates its marker, then lists all
 * markers, and the lowest id among the live ones holds the account. Cliniko gives ids in the order
 * records are created, so two runners that start in the same second agree on the winner. A marker
 * lives while its run renews it: it has expired once Cliniko's own `updated_at` of it is more than
 * its `ttlSeconds` behind Cliniko's `updated_at` of the marker just written (both stamps are the
 * server's, so no runner's clock is trusted).
 *
 * The marker is a contact (Cliniko's API documentation on contacts: created, listed with a
 * `company_name` filter, updated, archived; harmless to a clinic, whose staff see "cliniko-migrate
 * lease" in Contacts while a migration runs). Lease markers are never one of a run's records:
 * reconciliation skips them (`isLeaseMarker`), and no run enters them in its id map, so no rollback
 * or report counts them.
 */

/** The `company_name` every marker carries: the list filter and what tells a marker apart. */
export const LEASE_COMPANY_NAME = 'cliniko-migrate lease';

/** A marker not renewed for this long has expired (a crashed run blocks no one for longer). */
export const LEASE_TTL_SECONDS = 15 * 60;

/** A run renews its marker this often (a third of the time to live: two renewals may fail). */
export const LEASE_RENEW_SECONDS = 5 * 60;

/**
 * How long a runner that appears to win waits before it lists the markers again: a marker whose
 * create was in flight when it listed (a lower id not yet visible) shows by then.
 */
export const LEASE_SETTLE_MS = 1_500;

/** Who holds (or asks for) the lease: written as JSON into the marker's `notes`. */
export const LeaseOwner = z.object({
  /** The run (or `rollback-of-<runId>`) that holds the account. */
  runId: z.string().min(1),
  /** When the run started, ISO 8601 UTC. */
  startedAt: z.string().min(1),
  /** Where it runs: the host name of a machine, or `AWS <stack name>`. */
  where: z.string().min(1),
  /** Seconds after the marker's last `updated_at` at which it expires. */
  ttlSeconds: z.number().int().positive(),
});
export type LeaseOwner = z.infer<typeof LeaseOwner>;

/** A listed marker: the contact's fields the protocol reads. */
const MarkerRecord = z.looseObject({
  id: ClinikoId,
  updated_at: z.string(),
  company_name: z.string().nullable().optional(),
  notes: z.string().nullable().optional(),
  archived_at: z.string().nullable().optional(),
});

export interface LeaseMarker {
  readonly id: string;
  /** Cliniko's time of the last write to the marker, ms since the epoch. */
  readonly updatedAt: number;
  /** Undefined when the marker's notes were edited into something that is not an owner. */
  readonly owner: LeaseOwner | undefined;
}

/** Whether a record listed from the account is a lease marker (never a migrated contact). */
export function isLeaseMarker(record: { company_name?: string | null | undefined }): boolean {
  return record.company_name === LEASE_COMPANY_NAME;
}

/** The account holds another run's live marker: its owner, for the refusal line. */
export class LeaseHeldError extends Error {
  /** `timeZone`: the clinic's IANA zone the start time is shown in (UTC when not known). */
  constructor(
    readonly holder: LeaseOwner,
    timeZone?: string,
  ) {
    super(
      `this Cliniko account is being migrated by run ${holder.runId}, started ${startTime(holder.startedAt, timeZone)}, on ${holder.where}: one migration at a time per account (wait for it to end, or if it is gone, --take-over)`,
    );
    this.name = 'LeaseHeldError';
  }
}

/** The run's marker was archived (taken over) or another run holds the account now. */
export class LeaseLostError extends Error {
  constructor(runId: string, holder: LeaseOwner | undefined) {
    super(
      holder
        ? `run ${runId} lost its lease on the Cliniko account to run ${holder.runId} on ${holder.where}: it stops writing`
        : `run ${runId} lost its lease on the Cliniko account (its marker was removed, e.g. by --take-over): it stops writing`,
    );
    this.name = 'LeaseLostError';
  }
}

/** The client calls the lease makes (the ClinikoClient has them; a test may count them). */
export type LeaseClient = Pick<ClinikoClient, 'call' | 'listAll'>;

/** An instant as people read it: `2026-12-05 14:21 AEDT` in the clinic's zone, else in UTC. */
export function startTime(iso: string, timeZone = 'UTC'): string {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  try {
    const parts = new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    }).formatToParts(new Date(t));
    const p = (type: Intl.DateTimeFormatPartTypes) => parts.find((x) => x.type === type)?.value ?? '';
    return `${p('year')}-${p('month')}-${p('day')} ${p('hour')}:${p('minute')}:${p('second')} ${p('timeZoneName')}`;
  } catch {
    return iso;
  }
}

const ownerOf = (notes: string | null | undefined): LeaseOwner | undefined => {
  if (!notes) return undefined;
  try {
    const parsed = LeaseOwner.safeParse(JSON.parse(notes));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
};

const markerOf = (r: z.infer<typeof MarkerRecord>): LeaseMarker => ({
  id: r.id,
  updatedAt: Date.parse(r.updated_at),
  owner: ownerOf(r.notes),
});

const byId = (a: LeaseMarker, b: LeaseMarker) => {
  const x = BigInt(a.id);
  const y = BigInt(b.id);
  return x < y ? -1 : x > y ? 1 : 0;
};

/**
 * Whether a marker has expired at `now` (ms, Cliniko's clock): not renewed within its owner's
 * `ttlSeconds` (LEASE_TTL_SECONDS when its notes were edited away).
 */
export function hasExpired(marker: LeaseMarker, now: number): boolean {
  const ttl = marker.owner?.ttlSeconds ?? LEASE_TTL_SECONDS;
  return marker.updatedAt + ttl * 1000 < now;
}

/** Every lease marker the account holds (archived ones are released, so not listed), by id. */
export async function listLeaseMarkers(client: LeaseClient): Promise<LeaseMarker[]> {
  const records = await client.listAll('/contacts', 'contacts', MarkerRecord, [
    `company_name:=${LEASE_COMPANY_NAME}`,
  ]);
  return records
    .filter((r) => isLeaseMarker(r) && !r.archived_at)
    .map(markerOf)
    .sort(byId);
}

const markerBody = (owner: LeaseOwner) => ({
  first_name: 'cliniko-migrate',
  last_name: 'migration in progress (do not edit)',
  company_name: LEASE_COMPANY_NAME,
  type_code: 0,
  notes: JSON.stringify(owner),
});

async function writeMarker(client: LeaseClient, owner: LeaseOwner, id?: string): Promise<LeaseMarker> {
  const record = await client.call(id ? 'PATCH' : 'POST', id ? `/contacts/${id}` : '/contacts', {
    schema: MarkerRecord,
    body: markerBody(owner),
    idempotent: Boolean(id),
  });
  return markerOf(record);
}

async function archive(client: LeaseClient, id: string): Promise<void> {
  await client.call('POST', `/contacts/${id}/archive`, { schema: undefined });
}

/** The live marker that holds the account at `now`: the lowest id among those not expired. */
function holderAt(markers: readonly LeaseMarker[], now: number, mine: (m: LeaseMarker) => boolean) {
  return markers.find((m) => mine(m) || !hasExpired(m, now));
}

export interface AcquireOptions {
  readonly client: LeaseClient;
  readonly owner: Omit<LeaseOwner, 'ttlSeconds'> & { ttlSeconds?: number };
  /** The clinic's IANA zone the holder's start time is shown in (UTC when not known). */
  readonly timeZone?: string;
  /** LEASE_SETTLE_MS unless a test shortens it. */
  readonly settleMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

/**
 * Takes the account's lease for `owner.runId` before a run's (or rollback's) first write: creates
 * its marker, lists the markers, and holds the account if its marker is the lowest live one, still
 * after `settleMs`. Expired markers of other runs are archived by the winner (so a run that comes
 * back from a network partition finds its marker gone at its next renewal and stops).
 * @returns the run's marker.
 * @throws LeaseHeldError naming the holder when another run's live marker is lower (the run's own
 *   marker is archived first); ClinikoError subclasses when Cliniko cannot be reached.
 */
export async function acquireLease(options: AcquireOptions): Promise<LeaseMarker> {
  const runId = options.owner.runId;
  const acquisition = acquire(options);
  acquiring.set(runId, acquisition);
  try {
    return await acquisition;
  } finally {
    if (acquiring.get(runId) === acquisition) acquiring.delete(runId);
  }
}

/**
 * Acquisitions under way in this process, by run id. A stop (Ctrl-C) may come while a run's
 * marker is being created: a release that only listed the markers then would miss it, and the
 * marker would hold the account for LEASE_TTL_SECONDS after the process is gone.
 */
const acquiring = new Map<string, Promise<LeaseMarker>>();

async function acquire(options: AcquireOptions): Promise<LeaseMarker> {
  const { client } = options;
  const owner: LeaseOwner = { ...options.owner, ttlSeconds: options.owner.ttlSeconds ?? LEASE_TTL_SECONDS };
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const mine = (m: LeaseMarker) => m.owner?.runId === owner.runId;
  const marker = await writeMarker(client, owner);
  const now = marker.updatedAt;
  try {
    for (const check of [0, options.settleMs ?? LEASE_SETTLE_MS]) {
      if (check) await sleep(check);
      const markers = await listLeaseMarkers(client);
      const holder = holderAt(markers, now, mine);
      if (holder && !mine(holder))
        throw new LeaseHeldError(
          holder.owner ?? { runId: '(unknown)', startedAt: '(unknown)', where: '(unknown)', ttlSeconds: 1 },
          options.timeZone,
        );
      if (check) for (const m of markers) if (!mine(m) && hasExpired(m, now)) await archive(client, m.id);
    }
  } catch (err) {
    if (err instanceof LeaseHeldError) await archiveMarkersOf(client, owner.runId);
    throw err;
  }
  return marker;
}

/**
 * Renews the run's marker (its expiry moves to Cliniko's now + `ttlSeconds`), at least every
 * LEASE_RENEW_SECONDS while the run lives; a longer `ttlSeconds` fits a step that sleeps longer
 * (CheckPhase waits up to an hour).
 * @throws LeaseLostError when the run's marker is gone (taken over) or a lower live marker of
 *   another run holds the account.
 */
export async function renewLease(
  client: LeaseClient,
  owner: Omit<LeaseOwner, 'ttlSeconds'> & { ttlSeconds?: number },
): Promise<LeaseMarker> {
  const markers = await listLeaseMarkers(client);
  const own = markers.find((m) => m.owner?.runId === owner.runId);
  if (!own) throw new LeaseLostError(owner.runId, undefined);
  const renewed = await writeMarker(
    client,
    { ...own.owner, ...owner, ttlSeconds: owner.ttlSeconds ?? LEASE_TTL_SECONDS },
    own.id,
  );
  const holder = holderAt(markers, renewed.updatedAt, (m) => m.id === own.id);
  if (holder && holder.id !== own.id) throw new LeaseLostError(owner.runId, holder.owner);
  return renewed;
}

/**
 * Archives the run's markers at its end (whatever the outcome); none left is not an error. An
 * acquisition of the run under way in this process (a stop that came while Preflight was taking
 * the lease) is let finish first, so the marker it creates is archived too: a caller that must not
 * wait long on Cliniko bounds the whole (the CLI's stop at once: 5 s).
 */
export async function releaseLease(client: LeaseClient, runId: string): Promise<void> {
  await acquiring.get(runId)?.catch(() => undefined);
  await archiveMarkersOf(client, runId);
}

async function archiveMarkersOf(client: LeaseClient, runId: string): Promise<void> {
  for (const m of await listLeaseMarkers(client)) if (m.owner?.runId === runId) await archive(client, m.id);
}

/** The run that holds the account now, if any (Cliniko's clock read from the newest marker). */
export async function currentHolder(client: LeaseClient): Promise<LeaseMarker | undefined> {
  const markers = await listLeaseMarkers(client);
  const now = Math.max(0, ...markers.map((m) => m.updatedAt));
  return holderAt(markers, now, () => false);
}

/**
 * `--take-over`: archives every other run's marker, live or not, after the operator confirmed the
 * holder is gone; the run then acquires as usual. The run taken over stops at its next renewal.
 * @returns the owners whose markers were archived.
 */
export async function takeOverLease(client: LeaseClient, runId: string): Promise<LeaseOwner[]> {
  const taken: LeaseOwner[] = [];
  for (const m of await listLeaseMarkers(client)) {
    if (m.owner?.runId === runId) continue;
    await archive(client, m.id);
    if (m.owner) taken.push(m.owner);
  }
  return taken;
}
