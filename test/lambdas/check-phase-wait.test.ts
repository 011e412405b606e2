import { describe, expect, it } from '@jest/globals';
import { checkPhase, nextWaitSeconds, WAIT_SECONDS } from '../../lambdas/check-phase/check-phase.js';
import { statusStoreDouble } from '../support/port-doubles.js';

/** CheckPhase over a status table with `enqueued` queued and `finished` written, at `nowSeconds`. */
const check = (enqueued: number, finished: number, nowSeconds: number, previous?: Record<string, number>) =>
  checkPhase(
    { runId: 'r1', phase: 'appointments', ...(previous ? { previous } : {}) },
    {
      store: {
        ...statusStoreDouble(),
        listBatchCounts: async () => [
          {
            batchKey: 'appointments-1',
            counts: {
              entity: 'appointments',
              source: enqueued,
              planned: 0,
              skipped: 0,
              invalid: 0,
              enqueued,
              failed: 0,
            },
          },
        ],
        writeTotals: async () => ({
          appointments: { created: finished, alreadyPresent: 0, updated: 0, failed: 0 },
        }),
      },
      queue: {
        send: async () => {
          throw new Error('CheckPhase sends no commands');
        },
        outstanding: async () => enqueued - finished,
      },
      now: () => nowSeconds * 1000,
    },
  );

describe('the wait between two checks of a phase', () => {
  it('is half the time the work left takes at the measured rate', () => {
    // 1,000 left at 2 a second: 500 s to go, checked again in 250 s
    expect(
      nextWaitSeconds({ outstanding: 1000, finishedSince: 120, secondsSince: 60, previousWait: 60 }),
    ).toBe(250);
  });

  it('doubles when nothing finished since the last check, and stays within 10 s and 1 h', () => {
    expect(nextWaitSeconds({ outstanding: 1000, finishedSince: 0, secondsSince: 60, previousWait: 60 })).toBe(
      120,
    );
    expect(
      nextWaitSeconds({ outstanding: 1000, finishedSince: 0, secondsSince: 60, previousWait: 3000 }),
    ).toBe(WAIT_SECONDS.max);
    expect(nextWaitSeconds({ outstanding: 3, finishedSince: 100, secondsSince: 1, previousWait: 10 })).toBe(
      WAIT_SECONDS.min,
    );
    expect(
      nextWaitSeconds({ outstanding: 3_000_000, finishedSince: 200, secondsSince: 60, previousWait: 10 }),
    ).toBe(3600);
  });

  it("comes from CheckPhase with the check's number and part of the run, carried from the previous check", async () => {
    const first = await check(1000, 0, 1_000);
    expect(first).toMatchObject({ done: false, polls: 1, part: 1, checkedAt: 1_000, waitSeconds: 20 });
    const second = await check(1000, 200, 1_100, { ...first, byEntity: undefined } as never);
    // 800 left at 2 a second: 400 s to go
    expect(second).toMatchObject({ done: false, polls: 2, part: 1, finished: 200, waitSeconds: 200 });
    const continued = await check(1000, 1000, 1_300, { polls: 0, part: 3, finished: 200, checkedAt: 1_100 });
    expect(continued).toMatchObject({ done: true, polls: 1, part: 3 });
  });
});
