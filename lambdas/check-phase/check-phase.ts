import type { CommandQueue } from '../../src/ports/command-queue.js';
import type { OutcomeStore } from '../../src/ports/outcomes.js';
import type { WriteLedger } from '../../src/ports/write-ledger.js';
import type { CheckPhaseInput, CheckPhaseOutput } from './io.js';

export interface CheckPhaseDeps {
  readonly store: OutcomeStore & WriteLedger;
  readonly queue: CommandQueue;
  /** Now, epoch milliseconds (Date.now unless a test's clock). */
  readonly now?: () => number;
}

/**
 * Bounds of the wait between two checks of a phase, seconds. The lower one keeps a short phase
 * quick; the upper one keeps an operator's view (and a stalled phase's detection) at most an hour
 * behind. Between them the wait follows the work left, so a phase of days costs tens of checks,
 * not tens of thousands (issue 22: a fixed 10 s poll filled an execution's 25,000 history events
 * in about 7.7 hours of waiting).
 */
export const WAIT_SECONDS = { min: 10, max: 3600 } as const;

/**
 * Seconds until the next check of a phase is worth making: half the time the outstanding
 * commands take at the rate measured since the previous check (so the end of the phase is not
 * overshot by more than half of what was left), or, when nothing finished since (mappers still
 * mapping, a throttled account), twice the previous wait. Clamped to {@link WAIT_SECONDS}.
 */
export function nextWaitSeconds(a: {
  readonly outstanding: number;
  readonly finishedSince: number;
  readonly secondsSince: number;
  readonly previousWait: number;
}): number {
  let wait: number;
  if (a.outstanding <= 0) wait = WAIT_SECONDS.min;
  else if (a.finishedSince > 0 && a.secondsSince > 0)
    wait = a.outstanding / (a.finishedSince / a.secondsSince) / 2;
  else wait = a.previousWait * 2;
  return Math.round(Math.min(WAIT_SECONDS.max, Math.max(WAIT_SECONDS.min, wait)));
}

export async function checkPhase(input: CheckPhaseInput, deps: CheckPhaseDeps): Promise<CheckPhaseOutput> {
  const [batches, totals] = await Promise.all([
    deps.store.listBatchCounts(input.runId),
    deps.store.writeTotals(input.runId),
  ]);
  const byEntity: Record<string, { enqueued: number; finished: number }> = {};
  const entry = (entity: string) => {
    const e = byEntity[entity] ?? { enqueued: 0, finished: 0 };
    byEntity[entity] = e;
    return e;
  };
  for (const b of batches) entry(b.counts.entity).enqueued += b.counts.enqueued;
  for (const [entity, t] of Object.entries(totals)) {
    entry(entity).finished +=
      (t?.created ?? 0) + (t?.alreadyPresent ?? 0) + (t?.updated ?? 0) + (t?.failed ?? 0);
  }
  const enqueued = Object.values(byEntity).reduce((n, e) => n + e.enqueued, 0);
  const finished = Object.values(byEntity).reduce((n, e) => n + e.finished, 0);
  const checkedAt = Math.floor((deps.now ?? Date.now)() / 1000);
  const previous = input.previous ?? {};
  const waitSeconds = nextWaitSeconds({
    outstanding: enqueued - finished,
    finishedSince: previous.finished === undefined ? 0 : finished - previous.finished,
    secondsSince: previous.checkedAt ? checkedAt - previous.checkedAt : 0,
    previousWait: previous.waitSeconds ?? WAIT_SECONDS.min,
  });
  const base = {
    phase: input.phase,
    enqueued,
    finished,
    byEntity,
    polls: (previous.polls ?? 0) + 1,
    part: previous.part ?? 1,
    checkedAt,
    waitSeconds,
  };
  const idleBefore = previous.idleChecks ?? input.idleChecks ?? 0;
  if (finished >= enqueued) return { ...base, done: true, deadLettered: 0, idleChecks: 0 };
  const outstanding = await deps.queue.outstanding();
  if (outstanding === 0) {
    // The counters fall short only where a writer stopped between a result and its count: with
    // nothing left to write, the results themselves are counted (once, not at every check).
    const settled = await deps.store.settleWriteTotals(input.runId);
    const exact = Object.values(settled).reduce(
      (n, t) => n + (t ? t.created + t.alreadyPresent + t.updated + t.failed : 0),
      0,
    );
    if (exact >= enqueued) return { ...base, finished: exact, done: true, deadLettered: 0, idleChecks: 0 };
  }
  const idleChecks = outstanding === 0 ? idleBefore + 1 : 0;
  if (idleChecks >= 2) return { ...base, done: true, deadLettered: enqueued - finished, idleChecks };
  return { ...base, done: false, deadLettered: 0, idleChecks };
}
