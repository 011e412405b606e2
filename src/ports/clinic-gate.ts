import { z } from 'zod';

/**
 * One run per clinic at a time on AWS (issue 23): StartRun takes the clinic's gate before it starts
 * an execution, the run's steps renew it while the run goes on, and Report gives it back whatever
 * the run's outcome. Two exports of one clinic dropped together start one run; the other waits.
 *
 * The gate is a single item taken by a conditional write, so two StartRuns that race are decided
 * by the store (exactly one write succeeds), not by what either of them read before. Listing the
 * running executions would be racy (ListExecutions is eventually consistent, and a run's later
 * executions are named `<runId>--<phase>-<part>`, so no name tells its clinic).
 *
 * A run that crashes without reaching Report (an execution aborted, timed out, or stopped by a
 * Step Functions limit) would hold its clinic for ever, so a hold expires: it lives
 * {@link CLINIC_HOLD_TTL_SECONDS} after its last renewal (plus the wait a CheckPhase announces).
 * The account lease in Cliniko itself (src/lease/account-lease.ts) still guards the account across
 * machines; this gate only keeps one stack from running two executions for one clinic.
 */

/**
 * Seconds a hold lives after it was taken or last renewed. Longer than any gap between renewals
 * of a live run: a step renews at most every 5 minutes (lambdas/shared/lease.ts) and a Lambda
 * lasts at most 15 minutes, with retries; CheckPhase adds its announced wait (at most an hour).
 * A crashed run blocks its clinic for at most this long.
 */
export const CLINIC_HOLD_TTL_SECONDS = 60 * 60;

/** The clinic's hold as the store keeps it. */
export const ClinicHold = z.object({
  clinicId: z.string().min(1),
  /** The run holding the clinic (its first execution's name; later ones are `<runId>--…`). */
  runId: z.string().min(1),
  mode: z.enum(['dry-run', 'live']),
  /** The bucket key of the export (or approval marker) that started the run. */
  exportKey: z.string().min(1),
  /** ISO 8601 UTC: when the run took the clinic. */
  takenAt: z.string().min(1),
  /** Epoch seconds after which the hold has expired (also the table's TTL attribute). */
  expiresAt: z.number().int(),
});
export type ClinicHold = z.output<typeof ClinicHold>;

/** What a take found: the clinic taken (`fresh`: no hold of this run was there before), or its holder. */
export type ClinicTake =
  | { readonly taken: true; readonly fresh: boolean }
  | { readonly taken: false; readonly holder: ClinicHold };

/**
 * What a renewal found: renewed (`retaken`: the hold was gone or expired and was taken again), no
 * hold at all (a run not started through StartRun), or another run's.
 */
export type ClinicRenewal =
  | { readonly renewed: true; readonly retaken?: true }
  | { readonly renewed: false; readonly holder: ClinicHold | undefined };

/** What a run that took its clinic's hold gives a renewal, to take it again should it be gone. */
export interface ClinicRetake {
  /** The hold as StartRun took it (its expiry is the renewal's). */
  readonly hold: Pick<ClinicHold, 'mode' | 'exportKey' | 'takenAt'>;
  /** Ms since the epoch: a hold whose `expiresAt` is at or before it has expired. */
  readonly nowMs: number;
}

export interface ClinicGate {
  /** Takes the clinic for `hold.runId` when {@link mayTake} allows it, atomically. */
  take(hold: ClinicHold, nowMs: number): Promise<ClinicTake>;
  /**
   * Moves the run's hold's expiry to `expiresAt` (epoch seconds), only while the run holds it.
   * With `retake` (a run that took a hold), a hold found gone (deleted by the table's TTL, which
   * DynamoDB does some time after `expiresAt`) or expired is taken again under {@link mayTake}'s
   * rule, atomically: never over another run's live hold, which the answer names instead.
   */
  renew(clinicId: string, runId: string, expiresAt: number, retake?: ClinicRetake): Promise<ClinicRenewal>;
  /** The run holding the clinic (expired or not), or undefined when none does. */
  holder(clinicId: string): Promise<ClinicHold | undefined>;
  /** Gives the clinic back, only if `runId` holds it; false when it did not (nothing changed). */
  release(clinicId: string, runId: string): Promise<boolean>;
}

/**
 * The gate's rule: a run may take the clinic when no one holds it, when it holds it already (the
 * same export event delivered twice names the same run), or when the holder's hold has expired
 * (`nowMs`: ms since the epoch). The DynamoDB adapter states the same rule as its condition.
 */
export function mayTake(current: ClinicHold | undefined, runId: string, nowMs: number): boolean {
  return !current || current.runId === runId || current.expiresAt * 1000 <= nowMs;
}

/** When a hold taken or renewed at `nowMs` expires (epoch seconds), `extraSeconds` beyond the TTL. */
export function holdExpiresAt(nowMs: number, extraSeconds = 0): number {
  return Math.floor(nowMs / 1000) + CLINIC_HOLD_TTL_SECONDS + Math.ceil(Math.max(0, extraSeconds));
}

/** The line a refused start logs and throws: ids only, never what the export holds. */
export function clinicBusyMessage(runId: string, holder: ClinicHold): string {
  return `clinic ${holder.clinicId} busy: run ${holder.runId} (${holder.mode}, since ${holder.takenAt}) holds it; ${runId} waits in the run-start queue until it ends (or its hold expires ${new Date(holder.expiresAt * 1000).toISOString()})`;
}

/**
 * The run's hold on its clinic has expired and another run took the clinic: the step fails so the
 * run ends in its failure report rather than running beside the other (as LeaseLostError does for
 * the Cliniko account).
 */
export class ClinicHoldLostError extends Error {
  override name = 'ClinicHoldLostError';
  constructor(
    readonly runId: string,
    readonly holder: ClinicHold,
  ) {
    super(
      `run ${runId} no longer holds clinic ${holder.clinicId}: its hold expired and run ${holder.runId} took it at ${holder.takenAt}`,
    );
  }
}
