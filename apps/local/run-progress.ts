/** How progress lines name what is written but no source row (ports.ts SupportEntity). */
const SUPPORT_LABELS: Record<string, string> = {
  migratedAppointmentType: '"Migrated appointment" type',
  treatmentNoteTemplates: 'treatment note templates',
  notesArchive: 'notes PDF archive',
};

/** A progress line for a step, on a terminal or in a log: phases, batches, writes. */
export function describe(state: string, input: unknown, output: unknown): string | undefined {
  const i = input as { batchKey?: string };
  if (state === 'Preflight') {
    const o = output as { ok: boolean; failures: string[]; duplicationRisk: number };
    if (!o.ok) return `  preflight failed: ${o.failures.join('; ')}`;
    return `  preflight passed${o.duplicationRisk ? ` (${o.duplicationRisk} patients already in Cliniko)` : ''}`;
  }
  if (state === 'ReconcileResource') {
    const o = output as {
      resource: string;
      read: number;
      requests: number;
      notInCliniko: number;
      found: number;
    };
    const notes = [
      o.found ? `${o.found} found by natural key` : '',
      o.notInCliniko ? `${o.notInCliniko} no longer there, to write again` : '',
    ].filter(Boolean);
    return `  reconciled ${o.resource}: ${o.read} in Cliniko (${o.requests} requests)${notes.length ? `, ${notes.join(', ')}` : ''}`;
  }
  if (state === 'Plan') {
    const o = output as Record<string, { batches: number }>;
    const phases = Object.entries(o).filter(([k]) => k !== 'runId');
    return `  planned: ${phases.map(([k, v]) => `${k} ${v.batches} batch${v.batches === 1 ? '' : 'es'}`).join(', ')}`;
  }
  if (state.startsWith('MapBatch')) {
    const o = output as { enqueued: number };
    const name = i.batchKey?.split('/').slice(-2).join('/') ?? '';
    return `  mapped ${name}${o.enqueued ? `: ${o.enqueued} writes queued` : ''}`;
  }
  if (state.startsWith('Check')) {
    const o = output as {
      phase: string;
      done: boolean;
      deadLettered: number;
      byEntity: Record<string, { enqueued: number; finished: number }>;
    };
    const entities = Object.entries(o.byEntity)
      .filter(([, e]) => e.enqueued > 0 && (e.finished < e.enqueued || o.done))
      .map(([name, e]) => `${SUPPORT_LABELS[name] ?? name} ${e.finished}/${e.enqueued}`);
    const dead = o.deadLettered ? ` (${o.deadLettered} in the dead-letter queue)` : '';
    return `  ${o.phase}: ${entities.length ? entities.join(', ') : 'nothing to write'}${o.done ? ' ✓' : ''}${dead}`;
  }
  return undefined;
}
