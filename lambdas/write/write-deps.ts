import type { Readable } from 'node:stream';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import {
  ClinikoAmbiguousError,
  ClinikoError,
  ClinikoRateLimitedError,
  ClinikoTransientError,
} from '../../src/cliniko/errors.js';
import { DeferError } from '../../src/cliniko/rate-limiter.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';
import type { Claims, Findings, IdMap } from '../../src/ports/id-map.js';
import type { WriteLedger } from '../../src/ports/write-ledger.js';

/** What a writer needs: its ports, a Cliniko client per key (lane), a clock, the run's files. */
export interface WriteDeps {
  readonly store: IdMap & Claims & Findings & WriteLedger;
  readonly cliniko: (keyIndex: number) => ClinikoClient;
  readonly now: () => Date;
  /** Opens a document of the run's export afresh (an upload attempt may need it twice). */
  readonly openDocument?: (runId: string, path: string) => Promise<Readable>;
  /** Opens a file the run made (a notes PDF in the bucket). */
  readonly openRunFile?: (runId: string, key: string) => Promise<Readable>;
  /** How many keys (lanes) the run has: a write not pinned to a key takes the least loaded one. */
  readonly keyCount?: number;
  /**
   * When the command's run started (RunInfo.startedAt, UTC): a record found again after a lost
   * create answer that Cliniko created before it is not the run's (issue 11).
   */
  readonly runStartedAt?: string;
  /**
   * The account's "Contact" referral source type per client, kept by the caller for as long as
   * its clients (the writer's WriterCaches: the container). Absent: read once per command.
   */
  readonly referralTypes?: WeakMap<ClinikoClient, Promise<string | undefined>>;
}

/**
 * The key a write goes out with. A treatment note is pinned to its author's key; anything else
 * keeps the key it was given while that key has a token, and otherwise takes the key whose rate
 * limit frees soonest, so one busy key (a prolific author's notes) never holds the others' work.
 */
export async function laneFor(cmd: WriteCommand, deps: WriteDeps): Promise<number> {
  const n = deps.keyCount ?? 1;
  if (cmd.pinnedKey || n < 2) return cmd.keyIndex;
  const own = await deps.cliniko(cmd.keyIndex).waitForToken();
  if (own === 0) return cmd.keyIndex;
  let best = cmd.keyIndex;
  let bestWait = own;
  for (let i = 0; i < n; i++) {
    if (i === cmd.keyIndex) continue;
    const wait = await deps.cliniko(i).waitForToken();
    if (wait < bestWait) {
      best = i;
      bestWait = wait;
      if (wait === 0) break;
    }
  }
  return best;
}

/** How long to wait before asking again whether Cliniko has processed an attachment. */
export const PROCESSING_RECHECK_MS = 3_000;
/** Longer than this unprocessed, an attachment counts as failed (it exists; Cliniko did not finish it). */
export const PROCESSING_LIMIT_MS = 15 * 60_000;

export interface Delivery {
  /** SQS ApproximateReceiveCount: above 1, an earlier attempt may have written the record. */
  readonly receiveCount: number;
  /** Who is writing (the message id): the owner of a claim. */
  readonly owner: string;
}

/** A deferral that must re-queue a changed command (marked to re-find before creating). */
export class DeferredWrite extends DeferError {
  override name = 'DeferredWrite';
  constructor(
    delayMs: number,
    readonly command: WriteCommand,
  ) {
    super(delayMs);
  }
}

/** Longer than a writer invocation can last (its timeout), so a live claim is never taken over. */
export const CLAIM_TTL_MS = 120_000;

/** An attachment Cliniko never finished processing: a result, not worth another delivery. */
export class ProcessingTimeout extends Error {
  override name = 'ProcessingTimeout';
}

/** Errors worth another delivery: the message goes back to the queue (and, in the end, the DLQ). */
export function isRetryable(err: unknown): boolean {
  return (
    err instanceof DeferError ||
    err instanceof ClinikoTransientError ||
    err instanceof ClinikoRateLimitedError ||
    err instanceof ClinikoAmbiguousError ||
    !(err instanceof ClinikoError || err instanceof ProcessingTimeout)
  );
}
