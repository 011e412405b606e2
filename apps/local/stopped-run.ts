import { basename } from 'node:path';
import { checkPhase } from '../../lambdas/check-phase/check-phase.js';
import { runtime } from '../../lambdas/shared/runtime.js';
import { emptyEntities } from '../../src/core/entities.js';
import type { RunReport } from '../../src/report/run-report.js';
import type { LocalRunOptions } from './run-local-types.js';

/** Per entity, records written (or refused) of those queued, as the status table has them. */
export async function countsSoFar(
  runId: string,
): Promise<Record<string, { enqueued: number; finished: number }>> {
  const rt = runtime();
  return (await checkPhase({ runId, phase: '' }, { store: rt.store, queue: rt.queue() })).byEntity;
}

/** The report of a run whose execution ended without Report writing one: where and why it stopped. */
export function stoppedRunReport(runId: string, options: LocalRunOptions, failure: unknown): RunReport {
  const at = new Date().toISOString();
  const message = `the run stopped before its report: ${failure instanceof Error ? failure.message.split('\n')[0] : String(failure ?? 'unknown failure')}`;
  return {
    runId,
    mode: options.mode,
    status: 'failed',
    source: { system: 'gensolve', file: basename(options.exportZip), sha256: '' },
    startedAt: at,
    finishedAt: at,
    entities: emptyEntities(),
    excluded: {},
    problems: [
      {
        entity: 'run',
        sourceId: '',
        file: basename(options.exportZip),
        row: 0,
        field: '',
        code: 'EXECUTION_FAILED',
        severity: 'error',
        message,
      },
    ],
    cliniko: { requests: 0, byStatus: {}, keys: 0, target: '' },
    summary: { rowsRead: 0, errors: 1, warnings: 0, infos: 0, seconds: 0 },
  };
}
