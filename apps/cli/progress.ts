import cliProgress from 'cli-progress';
import type { RateLimitWait } from '../../src/cliniko/rate-limiter.js';
import { displayName } from '../../src/core/entities.js';
import { clinicTime, machineTimeZone } from '../../src/core/time-zone.js';

/**
 * Progress an operator can plan by (issue 15, docs/RUNNING.md, `run`): on a terminal a bar per
 * phase with records done of total, Cliniko requests per minute against the limit and an estimated
 * finish. The counts are the run's in all so far, every entity queued up to and in that phase ("in
 * all", as later phases add to earlier ones' records), so they differ from one entity's row of the
 * report's table; elsewhere (a log, CI) sparse plain lines: the run's milestones, a line when a phase
 * starts and ends, and at most one line per `plainEveryMs` (30 s) in between.
 */
export interface RunStatusSample {
  readonly phase?: string;
  readonly byEntity?: Record<string, { readonly enqueued: number; readonly finished: number }>;
  readonly requests?: number;
}

export interface RunProgress {
  /** A line from the pipeline (preflight, plan, batches mapped, phase checks). */
  line(text: string): void;
  /** The pipeline's counts, sampled as it polls each phase. */
  status(sample: RunStatusSample): void;
  /**
   * How the rate limit holds the run back now (`undefined`: it does not), sampled about every
   * second: a run held back longer than {@link WAITING_AFTER_MS} says so, by {@link waitingLine}.
   */
  waiting(wait: RateLimitWait | undefined): void;
  /**
   * Ends the bars before the summary is printed. A run that finished fills its last bar; an
   * interrupted one (Ctrl-C) leaves every bar at the records really done, and says it stopped.
   */
  stop(how?: 'finished' | 'interrupted'): void;
}

export interface ProgressOptions {
  readonly tty: boolean;
  readonly out: (line: string) => void;
  /** Cliniko's limit for the whole run: requests per minute per key times the keys. */
  readonly limitPerMinute: number;
  readonly stream?: NodeJS.WritableStream;
  readonly plainEveryMs?: number;
  readonly now?: () => number;
  /** The clinic's IANA zone, for the times a line gives; by default the machine's. */
  readonly timeZone?: string;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** "about 12 min", "about 2 h 5 min", "under a minute". */
export function duration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return 'unknown';
  if (seconds < 60) return 'under a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** "about 12 min left", "under a minute left": a {@link duration} as the time a phase still needs. */
function timeLeft(words: string): string {
  return `${words.startsWith('under') ? '' : 'about '}${words} left`;
}

/** How long a run is held back by the rate limit before a line says so: about as long as an operator waits before wondering. */
export const WAITING_AFTER_MS = 15_000;

/** How long after the tool's own wait ended it still explains a quiet run. */
const OWN_LIMIT_GRACE_MS = 5_000;

/** "45 s", "2 min", "1 h 5 min": how long a wait has lasted. */
function lasted(ms: number): string {
  return ms < 60_000 ? `${Math.round(ms / 1000)} s` : duration(ms / 1000);
}

/**
 * The line that tells a waiting run from a hung one (issue 23): `undefined` unless the rate limit
 * has held the run back for at least WAITING_AFTER_MS (`wait.since`) and the wait is still in
 * force or ended only just before: under WAITING_AFTER_MS for a 429, under OWN_LIMIT_GRACE_MS for
 * the tool's own limit (a wait that ended long ago no longer explains a quiet run). Times (epoch ms)
 * are shown in `zone` by clinicTime; `records` are the phase's records written of those queued
 * (left out once the phase is done).
 * Carries no record content and no key.
 */
export function waitingLine(
  wait: RateLimitWait | undefined,
  now: number,
  zone: string,
  records?: { readonly phase: string; readonly done: number; readonly total: number },
): string | undefined {
  // Writers that deferred come back a few seconds after a 429's reset (the queue's delay); the
  // bucket's own waits are a token interval, and their callers come back at once.
  const grace = wait?.reason === 'cliniko-429' ? WAITING_AFTER_MS : OWN_LIMIT_GRACE_MS;
  if (!wait || now - wait.since < WAITING_AFTER_MS || now - wait.until >= grace) return undefined;
  const why =
    wait.reason === 'cliniko-429' ? "Cliniko's rate limit (429)" : 'the rate limit this tool keeps to';
  const until = clinicTime(new Date(wait.until), zone);
  const when = wait.until > now ? `until ${until}` : `(it ended ${until}; trying again)`;
  const written =
    // a finished phase's counts say nothing of what waits: the next phase's writes are not counted yet
    records && records.total > 0 && records.done < records.total
      ? `; ${displayName(records.phase)}: ${fmt(records.done)} of ${fmt(records.total)} records written`
      : '';
  return `  Waiting for ${why} ${when}, ${lasted(now - wait.since)} so far${written}`;
}

/** Samples of a growing count over the last minute: its rate per minute. */
class Rate {
  private samples: [number, number][] = [];
  add(at: number, value: number): void {
    this.samples.push([at, value]);
    while (this.samples.length > 2 && at - (this.samples[1]?.[0] ?? at) >= 60_000) this.samples.shift();
  }
  /** Milliseconds between the oldest and the newest sample. */
  span(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    return first && last ? last[0] - first[0] : 0;
  }
  perMinute(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last[0] - first[0] < 1000) return 0;
    return ((last[1] - first[1]) * 60_000) / (last[0] - first[0]);
  }
}

/** Lines that mark the run's course; the rest (batches mapped, each poll) the bars or a summary stand for. */
const MILESTONE = /^\s*(Run run-|preflight|planned:|Live run|Dry run)/;

export function runProgress(options: ProgressOptions): RunProgress {
  const now = options.now ?? Date.now;
  const every = options.plainEveryMs ?? 30_000;
  const requests = new Rate();
  let records = new Rate();
  let announcedDone = '';
  let phase = '';
  let lastPlain = 0;
  let bars: cliProgress.MultiBar | undefined;
  let bar: cliProgress.SingleBar | undefined;
  let stopped = false;
  /** The last sample's records, done of queued: what an interrupted run really did. */
  let last: { done: number; total: number } | undefined;
  const zone = options.timeZone ?? machineTimeZone();
  /** The wait a line was last printed for (its start) and when: one line per `every` while it lasts. */
  let told: { since: number; at: number } | undefined;
  const print = (text: string) => {
    if (bars) bars.log(`${text}\n`);
    else options.out(text);
  };

  const counts = (s: RunStatusSample) => {
    let done = 0;
    let total = 0;
    for (const e of Object.values(s.byEntity ?? {})) {
      done += e.finished;
      total += e.enqueued;
    }
    return { done, total };
  };
  const eta = (done: number, total: number) => {
    const perMinute = records.perMinute();
    return perMinute > 0 ? duration(((total - done) / perMinute) * 60) : '';
  };

  if (options.tty) {
    bars = new cliProgress.MultiBar(
      {
        format:
          ' {phase} |{bar}| {value}/{total} records in all | {rate}/{limit} requests/min | ETA {finish}',
        barsize: 24,
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        fps: 5,
        ...(options.stream ? { stream: options.stream } : {}),
      },
      cliProgress.Presets.shades_classic,
    );
  }

  return {
    line(text) {
      if (!MILESTONE.test(text) && !/preflight failed/.test(text)) return;
      print(text);
    },
    waiting(wait) {
      if (stopped) return;
      const at = now();
      const text = waitingLine(wait, at, zone, last && phase ? { phase, ...last } : undefined);
      if (!text || !wait) {
        // Said it was waiting: say when it no longer is, so the last line is not a stale wait.
        if (told && wait?.since !== told.since) {
          print(`  The rate limit lets requests through again, after ${lasted(at - told.since)} of waiting`);
          told = undefined;
        }
        return;
      }
      if (told?.since === wait.since && at - told.at < every) return;
      told = { since: wait.since, at };
      print(text);
    },
    status(sample) {
      if (!sample.phase) return;
      const at = now();
      const { done, total } = counts(sample);
      last = { done, total };
      if (sample.requests !== undefined) requests.add(at, sample.requests);
      const newPhase = sample.phase !== phase;
      if (newPhase) {
        phase = sample.phase;
        // records of one phase are not those of the next: the rate starts again
        records = new Rate();
      }
      records.add(at, done);
      // Over less than half a minute the limiter's small burst reads as more than the limit a
      // minute allows (Cliniko counts whole minutes): the rate is shown once it covers 30 s.
      const rateMeasured = requests.span() >= 30_000;
      const payload = {
        phase: displayName(phase).padEnd(16),
        rate: rateMeasured ? fmt(requests.perMinute()) : '…',
        limit: fmt(options.limitPerMinute),
        finish: done >= total && total > 0 ? 'done' : eta(done, total) || 'estimating',
      };
      if (bars) {
        if (newPhase) {
          bar?.update(bar.getTotal(), { finish: 'done' });
          bar = bars.create(Math.max(total, 1), done, payload);
        } else {
          bar?.setTotal(Math.max(total, 1));
          bar?.update(done, payload);
        }
        return;
      }
      const finished = total > 0 && done >= total;
      const doneKey = `${phase}:${total}`;
      const announce = finished && announcedDone !== doneKey;
      if (announce) announcedDone = doneKey;
      // a phase with nothing to write (a dry run's, or Setup with everything in place) is no news
      if (total > 0 && (newPhase || announce || (!finished && at - lastPlain >= every))) {
        lastPlain = at;
        options.out(
          `  ${displayName(phase)}: ${fmt(done)}/${fmt(total)} records in all, ${rateMeasured ? `${payload.rate} requests/min` : 'requests/min not measured yet'} (limit ${payload.limit})${finished ? ', done' : payload.finish === 'estimating' ? '' : `, ${timeLeft(payload.finish)}`}`,
        );
      }
    },
    stop(how = 'finished') {
      if (stopped) return;
      stopped = true;
      if (how === 'interrupted') {
        if (bar) bar.update({ finish: 'stopped' });
        else if (phase && last)
          options.out(
            `  ${displayName(phase)}: ${fmt(last.done)}/${fmt(last.total)} records in all, stopped`,
          );
      } else bar?.update(bar.getTotal(), { finish: 'done' });
      bars?.stop();
    },
  };
}
