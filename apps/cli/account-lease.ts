import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { createInterface } from 'node:readline/promises';
import {
  acquireLease,
  currentHolder,
  LEASE_RENEW_SECONDS,
  type LeaseClient,
  LeaseHeldError,
  releaseLease,
  renewLease,
  startTime,
  takeOverLease,
} from '../../src/lease/account-lease.js';
import { UsageError } from './errors.js';

/**
 * The CLI's side of the Cliniko account's lease (src/lease/account-lease.ts). A live run takes it
 * in its Preflight step, as on AWS; the CLI refuses early when another run holds the account (so
 * no emulator starts for nothing), offers `--take-over`, and holds the lease itself for a rollback.
 */

/** Where this process runs, as the lease names it to another runner. */
export const thisHost = () => `${hostname()} (pid ${process.pid})`;

/**
 * `--take-over`: names the run holding the account, asks the operator to confirm (unless `yes`),
 * and removes its marker; the run taken over stops at its next renewal.
 * @throws UsageError (exit 2) when not confirmed, or when no terminal can ask and `--yes` is absent.
 */
export async function takeOver(
  client: LeaseClient,
  options: { yes: boolean; timeZone?: string; out: (line: string) => void },
): Promise<void> {
  const holder = await currentHolder(client);
  if (!holder?.owner) {
    options.out('--take-over: no run holds this Cliniko account.');
    return;
  }
  const h = holder.owner;
  const who = `run ${h.runId}, started ${startTime(h.startedAt, options.timeZone)}, on ${h.where}`;
  if (!options.yes) {
    if (!process.stdin.isTTY)
      throw new UsageError(`--take-over would stop ${who}: confirm with --yes (no terminal to ask on)`);
    const rl = createInterface({ input: process.stdin, output: process.stdout });
    const answer = await rl.question(
      `This Cliniko account is held by ${who}. Take it over only if that run is gone: two writers duplicate records. Take over? [y/N] `,
    );
    rl.close();
    if (!/^y(es)?$/i.test(answer.trim())) throw new UsageError('--take-over: not confirmed; nothing changed');
  }
  await takeOverLease(client, '');
  options.out(`Took over the Cliniko account from ${who}.`);
}

/**
 * Refuses at once when another run holds the account (exit 2, one line naming it), before a live
 * run starts its emulators. The decision that counts is Preflight's (two runs that pass here in
 * the same second are told apart there).
 */
export async function refuseIfHeld(client: LeaseClient, timeZone?: string): Promise<void> {
  const holder = await currentHolder(client);
  if (holder?.owner) throw new UsageError(new LeaseHeldError(holder.owner, timeZone).message);
}

/**
 * Holds the lease for a rollback of `runId` while `work` runs: taken before the first write,
 * renewed every LEASE_RENEW_SECONDS, released at the end whatever happens (Ctrl-C or SIGTERM too:
 * then the process exits 130).
 * @throws UsageError (exit 2) naming the holder when another run holds the account.
 */
export async function withAccountLease<T>(
  client: LeaseClient,
  what: string,
  timeZone: string | undefined,
  work: () => Promise<T>,
): Promise<T> {
  const owner = {
    runId: `${what}-${randomBytes(3).toString('hex')}`,
    startedAt: new Date().toISOString(),
    where: thisHost(),
  };
  // Ctrl-C (or SIGTERM) ends the process before the finally below: the lease goes first, or the
  // account stays held for LEASE_TTL_SECONDS (bounded: a stop must not wait on Cliniko). Listened
  // for from before the marker is made. What was archived stays archived; the same command again
  // finishes the rest.
  const stop = (signal: NodeJS.Signals) => {
    console.error(
      `\ncliniko-migrate: ${signal}: stopping ${what}; records archived so far stay archived (the same command again finishes the rest).`,
    );
    void Promise.race([
      releaseLease(client, owner.runId).catch(() => undefined),
      new Promise<void>((r) => setTimeout(r, SIGNAL_RELEASE_MS).unref()),
    ]).finally(() => process.exit(130));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  let timer: NodeJS.Timeout | undefined;
  try {
    try {
      await acquireLease({ client, owner, ...(timeZone ? { timeZone } : {}) });
    } catch (err) {
      if (err instanceof LeaseHeldError) throw new UsageError(err.message);
      throw err;
    }
    timer = setInterval(() => {
      renewLease(client, owner).catch((err: Error) =>
        console.error(`cliniko-migrate: renewing the Cliniko account's lease failed: ${err.message}`),
      );
    }, LEASE_RENEW_SECONDS * 1000);
    timer.unref();
    try {
      return await work();
    } finally {
      clearInterval(timer);
      await releaseLease(client, owner.runId);
    }
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
}

/** How long a rollback stopped by a signal waits for the account's lease to be released. */
const SIGNAL_RELEASE_MS = 5_000;
