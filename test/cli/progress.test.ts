import { Writable } from 'node:stream';
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
    expect(lines).toContain('  Patients: 500/500 records in all, 200 requests/min (limit 200), done');
    const middle = lines.find((l) => l.startsWith('  Patients: 250/500'));
    expect(middle).toMatch(/200 requests\/min \(limit 200\), about (2|3) min left$/);
    expect(lines.at(-1)).toMatch(/^ {2}Appointments: 0\/10 records/);
    // the first lines, before the rate covers half a minute, give no rate rather than a burst's
    expect(lines.find((l) => l.startsWith('  Patients: 0/500'))).toMatch(
      /, requests\/min not measured yet \(limit 200\)/,
    );
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
    expect(rates[0]).toBeUndefined();
    expect(lines[0]).toContain('requests/min not measured yet');
    const shown = rates.filter((r) => r !== undefined).map(Number);
    expect(shown.length).toBeGreaterThanOrEqual(2);
    for (const r of shown) expect(r).toBeLessThanOrEqual(200);
  });

  it('says nothing of a phase with nothing to write, and "under a minute left" without "about"', () => {
    const { progress, lines, at } = plainProgress();
    at(0);
    progress.status({ phase: 'setup', byEntity: {} });
    progress.status({ phase: 'patients', byEntity: { patients: { enqueued: 0, finished: 0 } } });
    // 100 records in 90 s: the last half minute reads "under a minute"
    for (let t = 500; t <= 90_000; t += 500) {
      at(t);
      progress.status({
        phase: 'appointments',
        byEntity: { appointments: { enqueued: 100, finished: Math.floor(t / 900) } },
        requests: Math.floor(t / 900),
      });
    }
    progress.stop();
    expect(lines.filter((l) => /Setup|Patients|0\/0/.test(l))).toEqual([]);
    const late = lines.filter((l) => l.includes(' left'));
    expect(late.length).toBeGreaterThan(0);
    expect(late.some((l) => l.endsWith(', under a minute left'))).toBe(true);
    expect(lines.some((l) => l.includes('about under'))).toBe(false);
  });

  it('words durations for people', () => {
    expect(duration(30)).toBe('under a minute');
    expect(duration(56 * 60)).toBe('56 min');
    expect(duration(125 * 60)).toBe('2 h 5 min');
  });
});

/** A terminal the bars draw on: what was written to it, as text. */
function fakeTerminal() {
  let written = '';
  const stream = Object.assign(
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        written += chunk.toString();
        done();
      },
    }),
    { isTTY: true, columns: 160 },
  );
  return { stream, text: () => written };
}

describe('progress when a run is interrupted (Ctrl-C)', () => {
  it('on a terminal leaves the bar at the records really written, not at 100%', () => {
    const screen = fakeTerminal();
    const progress = runProgress({
      tty: true,
      out: () => {},
      limitPerMinute: 200,
      stream: screen.stream,
      now: () => 0,
    });
    progress.status({ phase: 'migratedAppointmentType', byEntity: { x: { enqueued: 1, finished: 1 } } });
    progress.status({ phase: 'patients', byEntity: { patients: { enqueued: 500, finished: 120 } } });
    progress.stop('interrupted');
    const text = screen.text();
    expect(text).toContain('Migrated appointment type');
    expect(text).toMatch(/Patients\s+\|[█░]+\| 120\/500 records .*ETA stopped/);
    expect(text).not.toContain('500/500');
  });

  it('in plain lines says where it stopped, and a finished run still ends at its total', () => {
    const { progress, lines, at } = plainProgress();
    at(1_000);
    progress.status({ phase: 'appointments', byEntity: { appointments: { enqueued: 40, finished: 17 } } });
    progress.stop('interrupted');
    progress.stop();
    expect(lines.at(-1)).toBe('  Appointments: 17/40 records in all, stopped');
    expect(lines.some((l) => l.includes('40/40'))).toBe(false);

    const screen = fakeTerminal();
    const finished = runProgress({ tty: true, out: () => {}, limitPerMinute: 200, stream: screen.stream });
    finished.status({ phase: 'patients', byEntity: { patients: { enqueued: 10, finished: 9 } } });
    finished.stop();
    expect(screen.text()).toMatch(/10\/10 records .*ETA done/);
  });
});
