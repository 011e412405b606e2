import { describe, expect, it } from '@jest/globals';
import { describe as progressLine } from '../../apps/local/run-progress.js';
import { BoundaryError } from '../../src/core/boundary.js';

/**
 * The local runner reads step outputs through the schemas their handlers answer with
 * (lambdas/<function>/io.ts), not by casting (issue 24): a malformed output is refused with an
 * error naming the state and the field, instead of a progress line built from what is not there.
 */
function refusal(state: string, input: unknown, output: unknown): BoundaryError {
  try {
    progressLine(state, input, output);
  } catch (err) {
    if (err instanceof BoundaryError) return err;
    throw err;
  }
  throw new Error(`${state}: a malformed output was read`);
}

const check = {
  phase: 'patients',
  done: false,
  enqueued: 3,
  finished: 1,
  deadLettered: 0,
  idleChecks: 0,
  polls: 1,
  part: 1,
  checkedAt: 1_760_000_000,
  waitSeconds: 10,
  byEntity: { patients: { enqueued: 3, finished: 1 } },
};

describe('step outputs in the local runner', () => {
  it('reads well-formed outputs into progress lines', () => {
    expect(progressLine('CheckPatients', {}, check)).toBe('  patients: patients 1/3');
    expect(
      progressLine(
        'Preflight',
        {},
        { runId: 'r1', ok: true, mode: 'live', failures: [], duplicationRisk: 2 },
      ),
    ).toBe('  preflight passed (2 patients already in Cliniko)');
    expect(
      progressLine(
        'MapBatchAppointments',
        { runId: 'r1', batchKey: 'work/r1/batches/appointments/0001.json' },
        { batchKey: 'work/r1/batches/appointments/0001.json', enqueued: 4 },
      ),
    ).toBe('  mapped appointments/0001.json: 4 writes queued');
  });

  it.each([
    ['CheckPatients', {}, { ...check, byEntity: undefined }, 'byEntity'],
    ['CheckAppointments', {}, { ...check, deadLettered: '2' }, 'deadLettered'],
    ['Preflight', {}, { runId: 'r1', ok: true, mode: 'live', duplicationRisk: 0 }, 'failures'],
    ['ReconcileResource', {}, { runId: 'r1', resource: 'patients', done: true, read: 5 }, 'requests'],
    ['Plan', {}, { runId: 'r1', setup: { batches: 1, manifest: 'm' } }, 'patients'],
    ['MapBatchPatients', { runId: 'r1', batchKey: 'b' }, { batchKey: 'b', enqueued: -1 }, 'enqueued'],
  ])('refuses a malformed output of %s, naming the state and the field', (state, input, output, field) => {
    const err = refusal(state, input, output);
    expect(err.message).toContain(`${state} output`);
    expect(err.fields.map((f) => f.path)).toContain(field);
  });
});
