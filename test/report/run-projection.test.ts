import { describe, expect, it } from '@jest/globals';
import { summarise } from '../../apps/cli/run-steps.js';
import { parseConfig } from '../../src/config/migration-config.js';
import { emptyEntities } from '../../src/core/entities.js';
import { AWS_PRICE_SOURCES, AWS_PRICES, type AwsPrices, pricesFor } from '../../src/report/aws-prices.js';
import { estimateLive, LEASE_REQUESTS, PREFLIGHT_REQUESTS } from '../../src/report/live-estimate.js';
import { reportHtml } from '../../src/report/report-page.js';
import {
  costOf,
  duration,
  largestExecutionPolls,
  PROJECTED_PHASES,
  pollsForPhase,
  projectionLine,
  projectRun,
  STACK_SHAPE,
  usd,
} from '../../src/report/run-projection.js';
import type { RunReport } from '../../src/report/run-report.js';

/** A clinic as the issue describes one: 15 appointments, 5 notes per patient, a few letters and uploads. */
const clinic = (patients: number) => {
  const e = emptyEntities();
  const set = (k: keyof typeof e, n: number) => Object.assign(e[k], { planned: Math.round(n) });
  set('patients', patients);
  set('appointments', patients * 15);
  set('clinicalNotes', patients * 5);
  set('letters', patients / 5);
  set('fileUploads', patients / 10);
  set('contacts', patients / 20);
  set('appointmentTypes', 20);
  return e;
};
const run = (patients: number, keys = 1, more: { region?: string; stack?: typeof STACK_SHAPE } = {}) =>
  projectRun({ planned: clinic(patients), config: { clinicalNotes: 'pdf-per-patient' }, keys, ...more });

describe("a dry run's projection of its live run on AWS", () => {
  it('projects a 10,000-patient clinic at one key as the issue measured it: about 217,000 requests, about 18 h', () => {
    const p = run(10_000);
    // the figure counted each attachment's upload to the presigned storage as a Cliniko
    // request (13,000 here: a notes PDF per patient, 2,000 letters, 1,000 uploads); it is not one
    const uploads = 10_000 + 2_000 + 1_000;
    expect(Math.abs(p.requests - (217_000 - uploads)) / (217_000 - uploads)).toBeLessThan(0.02);
    expect(p.minutes / 60).toBeGreaterThan(17);
    expect(p.minutes / 60).toBeLessThan(20);
    // the requests are the dry run's own estimate, and the phases account for all but Preflight's
    expect(p.requests).toBe(estimateLive(clinic(10_000), { clinicalNotes: 'pdf-per-patient' }, 1).requests);
    const phased = p.phases.reduce((n, ph) => n + ph.requests, 0);
    expect(p.requests - phased).toBeGreaterThan(0);
    expect(p.requests - phased).toBeLessThanOrEqual(PREFLIGHT_REQUESTS + LEASE_REQUESTS + 1);
  });

  it('costs a run in proportion to its records, beyond a fixed part', () => {
    const [a, b, c] = [20_000, 40_000, 60_000].map((n) => run(n).cost.total) as [number, number, number];
    expect(a).toBeGreaterThan(0);
    // equal steps of records add equal cost (within 2 %: the checks grow slower than the records)
    expect(Math.abs(c - b - (b - a)) / (b - a)).toBeLessThan(0.02);
    // and the fixed part is small: twice the records, nearly twice the cost
    expect(b / a).toBeGreaterThan(1.9);
    expect(b / a).toBeLessThanOrEqual(2);
  });

  it('shortens the run about eightfold at 8 keys without changing what is requested or stored', () => {
    const one = run(50_000, 1);
    const eight = run(50_000, 8);
    expect(eight.requests).toBe(one.requests);
    expect(eight.usage.dynamoWriteUnits).toBe(one.usage.dynamoWriteUnits);
    expect(eight.usage.lambda.writer.gbSeconds).toBeCloseTo(one.usage.lambda.writer.gbSeconds, 6);
    expect(one.minutes / eight.minutes).toBeCloseTo(8, 6);
    // waiting less, the run is checked less often and costs no more
    expect(eight.usage.stateTransitions).toBeLessThan(one.usage.stateTransitions);
    expect(eight.cost.total).toBeLessThanOrEqual(one.cost.total);
    expect(one.atKeys.map((k) => k.keys)).toEqual([1, 4, 8]);
    expect(one.atKeys.find((k) => k.keys === 8)?.minutes).toBeCloseTo(eight.minutes, 6);
  });

  it('prices a run only with the prices of aws-prices.ts', () => {
    const p = run(10_000, 1, { region: 'us-east-1' });
    const listed = AWS_PRICES['us-east-1']?.prices as AwsPrices;
    expect(p.cost.total).toBeCloseTo(costOf(p.usage, listed).total, 10);
    const doubled = Object.fromEntries(
      Object.entries(listed).map(([k, v]) => [k, v * 2]),
    ) as unknown as AwsPrices;
    expect(costOf(p.usage, doubled).total).toBeCloseTo(2 * p.cost.total, 10);
    // every price has its source, and every service's part is priced
    for (const k of Object.keys(listed))
      expect(AWS_PRICE_SOURCES[k as keyof AwsPrices]).toMatch(/^https:\/\/aws\.amazon\.com\//);
    for (const [service, amount] of Object.entries(p.cost))
      expect([service, amount > 0]).toEqual([service, true]);
  });

  it("knows the README's regions and says when a region's prices are us-east-1's", () => {
    for (const region of ['ap-southeast-2', 'eu-west-2', 'ca-central-1', 'us-east-1'])
      expect(pricesFor(region).region).toBe(region);
    expect(pricesFor('af-south-1')).toMatchObject({ region: 'af-south-1', regional: false });
    const p = run(1_000, 1, { region: 'eu-west-2' });
    expect(projectionLine(p)).toContain('in eu-west-2');
    expect(projectionLine(p)).toContain(
      pricesFor('eu-west-2').regional ? 'a run in eu-west-2.' : 'us-east-1 list prices',
    );
  });

  it('keeps every execution inside 25,000 history events, carrying on in fresh executions as its checks require', () => {
    const big = run(200_000);
    expect(big.largestExecutionPollEvents).toBeLessThan(25_000);
    const polls = big.phases.reduce((n, ph) => n + ph.polls, 0);
    // checks grow with the days of the run, not with its records: hours of writing, not seconds
    expect(polls).toBeLessThan((big.minutes / 60) * 1.2 + 40);
    const few = { ...STACK_SHAPE, pollsPerExecution: 50 };
    const split = run(200_000, 1, { stack: few });
    const expected = 1 + big.phases.reduce((n, ph) => n + Math.floor(Math.max(0, ph.polls - 1) / 50), 0);
    expect(split.executions).toBe(expected);
    expect(split.executions).toBeGreaterThan(1);
    // an execution's checks are bounded by the constant, not by the clinic's size
    const bound = PROJECTED_PHASES.length * 50 * STACK_SHAPE.historyEventsPerPoll;
    expect(split.largestExecutionPollEvents).toBeLessThanOrEqual(bound);
    expect(run(800_000, 1, { stack: few }).largestExecutionPollEvents).toBeLessThanOrEqual(bound);
    expect(run(800_000, 1, { stack: few }).executions).toBeGreaterThan(split.executions);
    expect(run(1_000).executions).toBe(1);
  });
});

describe('checks of a phase', () => {
  const bounds = STACK_SHAPE.waitSeconds;
  it('counts the checks of consecutive phases in one execution until one carries on in a fresh one', () => {
    expect(largestExecutionPolls([3, 4, 5], 100)).toBe(12);
    expect(largestExecutionPolls([3, 250, 5], 100)).toBe(103);
    expect(largestExecutionPolls([3, 250, 80], 100)).toBe(130);
  });
  it('checks a short phase once or twice, and a long one about hourly', () => {
    expect(pollsForPhase(5, bounds)).toBe(1);
    expect(pollsForPhase(25, bounds)).toBe(2);
    const days = 11 * 24 * 3600;
    const polls = pollsForPhase(days, bounds);
    expect(polls).toBeGreaterThanOrEqual(days / bounds.max);
    expect(polls).toBeLessThan(days / bounds.max + 20);
  });

  it('never checks more often than the shortest wait allows', () => {
    for (const s of [60, 600, 6_000, 60_000])
      expect(pollsForPhase(s, bounds)).toBeLessThanOrEqual(s / bounds.min + 1);
  });
});

describe('what the clinic reads', () => {
  it('says durations in minutes, hours or days', () => {
    expect(duration(0.5)).toBe('under a minute');
    expect(duration(45)).toBe('45 min');
    expect(duration(18 * 60 + 53)).toBe('18 h 53 min');
    expect(duration(15 * 24 * 60 + 18 * 60)).toBe('15 days 18 h');
  });
});

describe('the dry run tells the clinic', () => {
  const report = (mode: RunReport['mode'], keys: number): RunReport => ({
    runId: 'r1',
    mode,
    status: 'succeeded',
    source: { system: 'gensolve', file: 'x.zip', sha256: 'ab'.repeat(32) },
    startedAt: '2026-12-01T00:00:00.000Z',
    finishedAt: '2026-12-01T00:01:00.000Z',
    entities: clinic(10_000),
    excluded: {},
    problems: [],
    cliniko: { requests: 12, byStatus: {}, keys, target: 'sandbox' },
    summary: { rowsRead: 1, errors: 0, warnings: 0, infos: 0, seconds: 60 },
    ...(mode === 'dry-run'
      ? {
          projection: projectRun({
            planned: clinic(10_000),
            config: { clinicalNotes: 'pdf-per-patient' },
            keys,
            region: 'eu-west-2',
          }),
        }
      : {}),
  });

  it("on its page: time, executions and cost at 1, 4 and 8 keys, the configured keys marked, and the prices' date", () => {
    const r = report('dry-run', 4);
    const p = r.projection as NonNullable<RunReport['projection']>;
    const html = reportHtml(r);
    const section = html.slice(html.indexOf('<h2 id="projection">'), html.indexOf('<h2>Not transferable'));
    const rows = [
      ...section.matchAll(
        /<tr( class="chosen")?><td>(\d+)[^<]*<\/td><td class="n">([^<]+)<\/td><td class="n">(\d+)<\/td><td class="n">([^<]+)<\/td>/g,
      ),
    ];
    expect(rows.map((m) => [m[2], m[3], m[4], m[5], !!m[1]])).toEqual(
      p.atKeys.map((k) => [
        String(k.keys),
        duration(k.minutes),
        String(k.executions),
        usd(k.cost),
        k.keys === 4,
      ]),
    );
    expect(section).toContain(p.pricesRead);
    // the services of a cent or more, dearest first
    const listed = [...(section.match(/At 4 keys: ([^<]*)\./)?.[1] ?? '').matchAll(/\$([\d.,]+)/g)].map((m) =>
      Number((m[1] ?? '').replace(/,/g, '')),
    );
    expect(listed.length).toBe(Object.entries(p.cost).filter(([k, v]) => k !== 'total' && v >= 0.01).length);
    expect(listed).toEqual([...listed].sort((a, b) => b - a));
    expect(section).toContain('eu-west-2');
    expect(reportHtml(report('live', 4))).not.toContain('id="projection"');
  });

  it('in the terminal, after the live estimate', () => {
    const lines: string[] = [];
    const r = report('dry-run', 1);
    summarise(r, { json: 'a', csv: 'b', html: 'c' }, (l) => lines.push(l), {
      config: parseConfig({}),
      keys: 1,
    });
    const at = lines.findIndex((l) => l.startsWith('On AWS:'));
    expect(lines[at - 1]).toMatch(/^A live run: /);
    const p = r.projection as NonNullable<RunReport['projection']>;
    expect(lines[at]).toContain(`≈ ${usd(p.cost.total)} a run at 1 key`);
    expect(lines[at]).toContain(`${p.executions} Step Functions execution`);
  });
});
