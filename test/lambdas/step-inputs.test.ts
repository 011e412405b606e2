import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { handler as checkPhase } from '../../lambdas/check-phase/handler.js';
import { handler as mapBatch } from '../../lambdas/map-batch/handler.js';
import { handler as plan } from '../../lambdas/plan/handler.js';
import { handler as preflight } from '../../lambdas/preflight/handler.js';
import { handler as reconcile } from '../../lambdas/reconcile/handler.js';
import { handler as report } from '../../lambdas/report/handler.js';
import { stepHandler } from '../../lambdas/shared/step.js';
import { handler as startRun } from '../../lambdas/start-run/handler.js';
import { BoundaryError } from '../../src/core/boundary.js';

// Each input is refused before the step touches its stores (no environment is set here: a step
// that got past its input would fail on the missing STATUS_TABLE instead).
const cases: [string, (event: unknown) => Promise<unknown>, unknown, RegExp][] = [
  [
    'Preflight',
    preflight,
    { runId: 'r1', clinicId: 'c1', bucket: 'b', key: 'k.zip', mode: 'production' },
    /^Preflight input refused: mode: /,
  ],
  ['Reconcile', reconcile, { runId: 'r1', resource: 'invoices' }, /^Reconcile input refused: resource: /],
  ['Plan', plan, {}, /^Plan input refused: runId: /],
  ['MapBatch', mapBatch, { runId: 'r1', batchKey: 7 }, /^MapBatch input refused: batchKey: /],
  [
    'CheckPhase',
    checkPhase,
    { runId: 'r1', phase: 'patients', idleChecks: -1 },
    /^CheckPhase input refused: idleChecks: /,
  ],
  [
    'Report',
    report,
    { runId: 'r1', clinicId: 'c1', bucket: 'b', executionFailure: { Error: 42 } },
    /^Report input refused: executionFailure\.Error: /,
  ],
  [
    'StartRun',
    startRun,
    { detail: { bucket: { name: 'b' }, object: {} } },
    /^StartRun event refused: detail\.object\.key: /,
  ],
];

describe('a step refuses a malformed input, naming the step and the field', () => {
  it.each(cases)('%s', async (_step, handler, event, message) => {
    await expect(handler(event)).rejects.toThrow(BoundaryError);
    await expect(handler(event)).rejects.toThrow(message);
  });

  it('refuses what is no object at all', async () => {
    await expect(plan('r1')).rejects.toThrow(/^Plan input refused: /);
  });
});

describe('stepHandler', () => {
  const step = stepHandler(
    'Example',
    { input: z.object({ n: z.number() }), output: z.object({ doubled: z.number().int() }) },
    async ({ n }) => ({ doubled: n * 2 }),
  );

  it('hands the parsed input to the step and returns its parsed output', async () => {
    await expect(step({ n: 4, extra: true })).resolves.toEqual({ doubled: 8 });
  });

  it('refuses an output the next state would refuse', async () => {
    await expect(step({ n: 0.25 })).rejects.toThrow('Example output refused: doubled: ');
  });
});
