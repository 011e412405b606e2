import { Writable } from 'node:stream';
import { describe, expect, it } from '@jest/globals';
import { runProgress, WAITING_AFTER_MS, waitingLine } from '../../apps/cli/progress.js';
import type { RateLimitWait } from '../../src/cliniko/rate-limiter.js';

/**
 * The line that tells a run waiting for the rate limit from a hung one (issue 23): after about
 * 15 s of waiting, with until when (in the clinic's zone) and the records written so far.
 */
const ZONE = 'Pacific/Auckland';
// 5 Dec 2026, 14:05:00 NZDT
const T0 = Date.parse('2026-12-05T01:05:00Z');
const cliniko429 = (since: number, until: number): RateLimitWait => ({ reason: 'cliniko-429', since, until });

describe('waitingLine', () => {
  it('says nothing before the run has waited WAITING_AFTER_MS', () => {
    const wait = cliniko429(T0, T0 + 60_000);
    expect(waitingLine(undefined, T0 + 60_000, ZONE)).toBeUndefined();
    expect(waitingLine(wait, T0 + WAITING_AFTER_MS - 1, ZONE)).toBeUndefined();
    expect(waitingLine(wait, T0 + WAITING_AFTER_MS, ZONE)).toBeDefined();
  });

  it('names Cliniko’s 429, until when in the clinic’s zone, how long so far and the records written', () => {
    const line = waitingLine(cliniko429(T0, T0 + 30_000), T0 + 20_000, ZONE, {
      phase: 'patients',
      done: 1234,
      total: 5000,
    });
    expect(line).toBe(
      "  Waiting for Cliniko's rate limit (429) until 5 Dec 2026, 14:05 NZDT (Pacific/Auckland), 20 s so far; Patients: 1,234 of 5,000 records written",
    );
  });

  it('names the tool’s own limit, and a wait whose end has just passed as trying again', () => {
    const own: RateLimitWait = { reason: 'own-limit', since: T0, until: T0 + 95_000 };
    expect(waitingLine(own, T0 + 90_000, 'Australia/Sydney')).toBe(
      '  Waiting for the rate limit this tool keeps to until 5 Dec 2026, 12:06 AEDT (Australia/Sydney), 2 min so far',
    );
    expect(waitingLine(cliniko429(T0, T0 + 20_000), T0 + 25_000, ZONE)).toMatch(
      /^ {2}Waiting for Cliniko's rate limit \(429\) \(it ended 5 Dec 2026, 14:05 NZDT .*; trying again\), 25 s so far$/,
    );
  });

  it('leaves out the counts of a phase already done: they say nothing of what waits', () => {
    const line = waitingLine(cliniko429(T0, T0 + 30_000), T0 + 20_000, ZONE, {
      phase: 'setup',
      done: 1,
      total: 1,
    });
    expect(line).toMatch(/, 20 s so far$/);
  });

  it('says nothing once the wait ended long ago: it no longer explains a quiet run', () => {
    const wait = cliniko429(T0, T0 + 20_000);
    expect(waitingLine(wait, T0 + 20_000 + WAITING_AFTER_MS - 1, ZONE)).toBeDefined();
    expect(waitingLine(wait, T0 + 20_000 + WAITING_AFTER_MS, ZONE)).toBeUndefined();
    // the tool's own waits are short and their callers come back at once: 5 s is long ago
    const own: RateLimitWait = { reason: 'own-limit', since: T0, until: T0 + 14_000 };
    expect(waitingLine(own, T0 + 18_999, ZONE)).toBeDefined();
    expect(waitingLine(own, T0 + 19_000, ZONE)).toBeUndefined();
  });
});

describe('runProgress.waiting', () => {
  it('in plain lines: one line after 15 s, another every 30 s while it lasts, and one when it ends', () => {
    let clock = T0;
    const lines: string[] = [];
    const progress = runProgress({
      tty: false,
      out: (l) => lines.push(l),
      limitPerMinute: 200,
      now: () => clock,
      timeZone: ZONE,
    });
    progress.status({ phase: 'patients', byEntity: { patients: { enqueued: 5000, finished: 1234 } } });
    lines.length = 0;
    // Cliniko answers 429 to everything for 80 s, sampled every second
    for (let t = 0; t <= 80_000; t += 1000) {
      clock = T0 + t;
      progress.waiting(cliniko429(T0, T0 + t + 1000));
    }
    clock = T0 + 81_000;
    progress.waiting(undefined);
    progress.waiting(undefined);
    expect(lines).toHaveLength(4);
    expect(lines[0]).toMatch(
      /^ {2}Waiting for Cliniko's rate limit \(429\) until .*NZDT.*, 15 s so far; Patients: 1,234 of 5,000 records written$/,
    );
    expect(lines[1]).toContain('45 s so far');
    expect(lines[2]).toContain('1 min so far'); // 75 s
    expect(lines[3]).toBe('  The rate limit lets requests through again, after 1 min of waiting');
  });

  it('on a terminal prints the line above the bars', async () => {
    let written = '';
    const stream = Object.assign(
      new Writable({
        write(chunk: Buffer, _encoding, done) {
          written += chunk.toString();
          done();
        },
      }),
      { isTTY: true, columns: 200 },
    );
    let clock = T0;
    const progress = runProgress({
      tty: true,
      out: () => {},
      limitPerMinute: 200,
      stream,
      now: () => clock,
      timeZone: ZONE,
    });
    progress.status({ phase: 'patients', byEntity: { patients: { enqueued: 50, finished: 7 } } });
    clock = T0 + 16_000;
    progress.waiting(cliniko429(T0, T0 + 40_000));
    // the bars write logged lines when they next redraw (5 times a second)
    await new Promise((r) => setTimeout(r, 400));
    progress.stop();
    expect(written).toMatch(
      /Waiting for Cliniko's rate limit \(429\) until .*NZDT.*, 16 s so far; Patients: 7 of 50 records written/,
    );
  });
});
