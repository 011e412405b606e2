import type { z } from 'zod';
import { CheckPhaseOutput } from '../../lambdas/check-phase/io.js';
import { MapBatchInput, MapBatchOutput } from '../../lambdas/map-batch/io.js';
import { PlanOutput } from '../../lambdas/plan/io.js';
import { PreflightOutput } from '../../lambdas/preflight/io.js';
import { ReconcileOutput } from '../../lambdas/reconcile/io.js';
import { parseAt } from '../../src/core/boundary.js';

/** How progress lines name what is written but no source row (ports.ts SupportEntity). */
const SUPPORT_LABELS: Record<string, string> = {
  migratedAppointmentType: '"Migrated appointment" type',
  treatmentNoteTemplates: 'treatment note templates',
  notesArchive: 'notes PDF archive',
};

/**
 * A step's output parsed by the schema its handler answers with (lambdas/<function>/io.ts): a
 * malformed one is refused with a BoundaryError naming the state and the fields (`CheckPatients
 * output refused: byEntity: ...`), never read as if it were whole.
 */
export function stepOutput<S extends z.ZodType>(state: string, schema: S, output: unknown): z.output<S> {
  return parseAt(`${state} output`, schema, output);
}

/** A progress line for a step, on a terminal or in a log: phases, batches, writes. */
export function describe(state: string, input: unknown, output: unknown): string | undefined {
  if (state === 'Preflight') {
    const o = stepOutput(state, PreflightOutput, output);
    if (!o.ok) return `  preflight failed: ${o.failures.join('; ')}`;
    return `  preflight passed${o.duplicationRisk ? ` (${o.duplicationRisk} patients already in Cliniko)` : ''}`;
  }
  if (state === 'ReconcileResource') {
    const o = stepOutput(state, ReconcileOutput, output);
    const notes = [
      o.found ? `${o.found} found by natural key` : '',
      o.notInCliniko ? `${o.notInCliniko} no longer there, to write again` : '',
    ].filter(Boolean);
    return `  reconciled ${o.resource}: ${o.read} in Cliniko (${o.requests} requests)${notes.length ? `, ${notes.join(', ')}` : ''}`;
  }
  if (state === 'Plan') {
    const { runId: _, ...phases } = stepOutput(state, PlanOutput, output);
    return `  planned: ${Object.entries(phases)
      .map(([k, v]) => `${k} ${v.batches} batch${v.batches === 1 ? '' : 'es'}`)
      .join(', ')}`;
  }
  if (state.startsWith('MapBatch')) {
    const o = stepOutput(state, MapBatchOutput, output);
    const i = parseAt(`${state} input`, MapBatchInput, input);
    const name = i.batchKey.split('/').slice(-2).join('/');
    return `  mapped ${name}${o.enqueued ? `: ${o.enqueued} writes queued` : ''}`;
  }
  if (state.startsWith('Check')) {
    const o = stepOutput(state, CheckPhaseOutput, output);
    const entities = Object.entries(o.byEntity)
      .filter(([, e]) => e.enqueued > 0 && (e.finished < e.enqueued || o.done))
      .map(([name, e]) => `${SUPPORT_LABELS[name] ?? name} ${e.finished}/${e.enqueued}`);
    const dead = o.deadLettered ? ` (${o.deadLettered} in the dead-letter queue)` : '';
    return `  ${o.phase}: ${entities.length ? entities.join(', ') : 'nothing to write'}${o.done ? ' ✓' : ''}${dead}`;
  }
  return undefined;
}
