import type { CommandQueue } from '../../src/ports/command-queue.js';
import type { OutcomeStore } from '../../src/ports/outcomes.js';
import type { WriteLedger } from '../../src/ports/write-ledger.js';
import type { CheckPhaseInput, CheckPhaseOutput } from './io.js';

export interface CheckPhaseDeps {
  readonly store: OutcomeStore & WriteLedger;
  readonly queue: CommandQueue;
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
  const base = { phase: input.phase, enqueued, finished, byEntity };
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
  const idleChecks = outstanding === 0 ? (input.idleChecks ?? 0) + 1 : 0;
  if (idleChecks >= 2) return { ...base, done: true, deadLettered: enqueued - finished, idleChecks };
  return { ...base, done: false, deadLettered: 0, idleChecks };
}
