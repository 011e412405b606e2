import { hostname } from 'node:os';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import {
  acquireLease,
  LEASE_RENEW_SECONDS,
  LEASE_TTL_SECONDS,
  type LeaseMarker,
  releaseLease,
  renewLease,
} from '../../src/lease/account-lease.js';
import { ClinicHoldLostError, holdExpiresAt } from '../../src/ports/clinic-gate.js';
import type { RunInfo } from '../../src/ports/runs.js';
import { clinikoFor, flushRequests, log, onRuntimeReset, runtime } from './runtime.js';

/**
 * The pipeline's hold on the Cliniko account (src/lease/account-lease.ts): Preflight takes it
 * before a live run's first write, the steps that run while writes go on renew it, Report releases
 * it. A dry run writes nothing and takes none. Where the run is (`AWS <stack>`, or a host) comes
 * from CLINIKO_LEASE_WHERE.
 */
export function leaseWhere(): string {
  return runtime().env.leaseWhere ?? hostname();
}

/** Preflight: takes the lease for a live run. @throws LeaseHeldError naming the holder. */
export function takeLease(
  client: ClinikoClient,
  run: Pick<RunInfo, 'runId' | 'startedAt' | 'defaultTimeZone'>,
): Promise<LeaseMarker> {
  return acquireLease({
    client,
    owner: { runId: run.runId, startedAt: run.startedAt, where: leaseWhere() },
    timeZone: run.defaultTimeZone,
  });
}

/**
 * When this container last renewed each run's holds and until when they hold (epoch ms): a busy
 * step renews at most every LEASE_RENEW_SECONDS, and a check before a long wait renews only when
 * the holds would lapse during it.
 */
const renewedAt = new Map<string, { readonly at: number; readonly until: number }>();
onRuntimeReset(() => renewedAt.clear());

async function clientOf(run: Pick<RunInfo, 'clinicId' | 'clinikoUsers'>): Promise<ClinikoClient> {
  const rt = runtime();
  return clinikoFor()(await rt.secrets.credentials(run.clinicId), 0, run.clinikoUsers[0]);
}

/**
 * Renews the run's holds (`run`: its id, read from the status table when not given), at most every
 * LEASE_RENEW_SECONDS from this container, and sooner only when they would lapse within
 * `waitSeconds` (CheckPhase's coming wait) plus LEASE_RENEW_SECONDS: both holds then live
 * `waitSeconds` beyond their TTL. Every renewal of a live run's lease is a Cliniko request, taken
 * from the writers' rate limit, so a check every few seconds must not renew on each check.
 * `always` renews regardless.
 * - its clinic's gate (src/ports/clinic-gate.ts, any run): pushed to CLINIC_HOLD_TTL_SECONDS from
 *   now. A hold found gone (deleted by the table's TTL) or expired is taken again, unless another
 *   run holds the clinic live. A run that never took one (started by the CLI or the local runtime,
 *   not StartRun: no `clinicHold` in its record) has nothing to renew.
 * - a live run's lease on the Cliniko account. A dry run holds none.
 * @throws ClinicHoldLostError when the run's clinic hold expired and another run took the clinic;
 *   LeaseLostError when another run holds the account now: the step fails and the run ends in its
 *   failure report rather than writing beside another writer.
 */
export async function keepLease(
  run: string | RunInfo,
  options: { always?: boolean; waitSeconds?: number } = {},
): Promise<void> {
  const runId = typeof run === 'string' ? run : run.runId;
  const now = Date.now();
  const last = renewedAt.get(runId);
  const needed = now + ((options.waitSeconds ?? 0) + LEASE_RENEW_SECONDS) * 1000;
  if (!options.always && last && now - last.at < LEASE_RENEW_SECONDS * 1000 && last.until >= needed) return;
  const info = typeof run === 'string' ? await runtime().store.getRun(run) : run;
  const clinic = await runtime().gate.renew(
    info.clinicId,
    runId,
    holdExpiresAt(now, options.waitSeconds),
    info.clinicHold && { hold: { mode: info.mode, ...info.clinicHold }, nowMs: now },
  );
  if (clinic.renewed && clinic.retaken)
    log.warn('clinic hold had lapsed: taken again', { runId, clinicId: info.clinicId });
  if (!clinic.renewed && clinic.holder) {
    log.warn('clinic gate taken by another run', {
      runId,
      clinicId: info.clinicId,
      heldBy: clinic.holder.runId,
    });
    throw new ClinicHoldLostError(runId, clinic.holder);
  }
  const ttlSeconds = LEASE_TTL_SECONDS + Math.ceil(options.waitSeconds ?? 0);
  if (info.mode === 'live') {
    const client = await clientOf(info);
    try {
      await renewLease(client, { runId, startedAt: info.startedAt, where: leaseWhere(), ttlSeconds });
    } finally {
      // A renewal is a request Cliniko counts against the rate limit: the report counts it too.
      await flushRequests(runId, [client], new Map()).catch(() => undefined);
    }
  }
  renewedAt.set(runId, { at: now, until: now + ttlSeconds * 1000 });
}

/**
 * Report: gives the run's clinic back (issue 23), whatever the run's outcome, a refused preflight
 * included, so the next export of the clinic waiting in the run-start queue can start. Only the
 * run's own hold is removed: one that expired and was taken by another run stays.
 */
export async function endClinicHold(clinicId: string, runId: string): Promise<void> {
  renewedAt.delete(runId);
  await runtime().gate.release(clinicId, runId);
}

/** Report: releases a live run's lease, whatever its outcome (a dry run holds none). */
export async function endLease(run: RunInfo): Promise<void> {
  renewedAt.delete(run.runId);
  if (run.mode === 'live') await releaseLease(await clientOf(run), run.runId);
}
