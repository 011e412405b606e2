import { describe, expect, it } from '@jest/globals';
import { duration, runProgress } from '../../apps/cli/progress.js';

/** Progress written as plain lines at 200 requests a minute, on a clock the test moves (`at`). */
function plainProgress() {
  let clock = 0;
  const lines: string[] = [];
  const progress = runProgress({
    tty: false,
    out: (l) => lines.push(l),
    limitPerMinute: 200,
    now: () => clock,
  });
  const at = (ms: number) => {
    clock = ms;
  };
  return { progress, lines, at };
}

describe('progress when not on a terminal', () => {
  it('prints a line when a phase starts and ends and about one every 30 s, with the rate and an estimate', () => {
    const { progress, lines, at } = plainProgress();
    progress.line('Run run-abc (live) on the local pipeline.');
    progress.line('  preflight passed');
    progress.line('  mapped patients/batch-0001: 500 writes queued');
    // 500 patients at 100 a minute, sampled every half second as the pipeline polls
    for (let t = 0; t <= 300_000; t += 500) {
      at(t);
      const finished = Math.min(500, Math.floor(t / 600));
      progress.status({
        phase: 'patients',
        byEntity: { patients: { enqueued: 500, finished } },
        requests: finished * 2,
      });
    }
    at(300_500);
    progress.status({ phase: 'appointments', byEntity: { appointments: { enqueued: 10, finished: 0 } } });
    progress.stop();
    expect(lines[0]).toBe('Run run-abc (live) on the local pipeline.');
    expect(lines).not.toContain('  mapped patients/batch-0001: 500 writes queued');
    // 2 milestones, patients start, ~10 in 5 minutes, patients done, appointments start
    expect(lines.length).toBeGreaterThanOrEqual(14);
    expect(lines.length).toBeLessThanOrEqual(16);
    expect(lines).toContain('  patients: 500/500 records, 200 requests/min (limit 200), done');
    const middle = lines.find((l) => l.startsWith('  patients: 250/500'));
    expect(middle).toMatch(/200 requests\/min \(limit 200\), about (2|3) min left$/);
    expect(lines.at(-1)).toMatch(/^ {2}appointments: 0\/10 records/);
    // the first lines, before the rate covers half a minute, give no rate rather than a burst's
    expect(lines.find((l) => l.startsWith('  patients: 0/500'))).toMatch(/ … requests\/min \(limit 200\)/);
  });

  it('never reads the burst at the start of a run as a rate above the limit', () => {
    const { progress, lines, at } = plainProgress();
    // the limiter at 200 a minute: its burst of 4 at once, then 0.96 of the limit (3.2 a second)
    for (let t = 0; t <= 61_000; t += 500) {
      at(t);
      progress.status({
        phase: 'patients',
        byEntity: { patients: { enqueued: 500, finished: 0 } },
        requests: t === 0 ? 0 : 4 + Math.floor((t / 1000) * 3.2),
      });
    }
    progress.stop();
    const rates = lines.map((l) => / ([\d,…]+) requests\/min/.exec(l)?.[1]);
    // the first line has no rate yet (over 2 s this burst reads as 216 a minute)
    expect(rates[0]).toBe('…');
    const shown = rates.filter((r) => r && r !== '…').map(Number);
    expect(shown.length).toBeGreaterThanOrEqual(2);
    for (const r of shown) expect(r).toBeLessThanOrEqual(200);
  });

  it('words durations for people', () => {
    expect(duration(30)).toBe('under a minute');
    expect(duration(56 * 60)).toBe('56 min');
    expect(duration(125 * 60)).toBe('2 h 5 min');
  });
});
