import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { generateExport } from '../../apps/generate/generate-export.js';
import { formatBytes } from '../../src/core/byte-size.js';
import { ENTITY_KEYS, emptyEntities } from '../../src/core/entities.js';
import type { Problem } from '../../src/core/problem.js';
import { approvalAids } from '../../src/report/approval-aids.js';
import { writeReportFiles } from '../../src/report/report-files.js';
import type { RunReport } from '../../src/report/run-report.js';
import { launchChromium } from '../support/chromium.js';
import { dryRunInto, tempDir } from '../support/exports.js';
import { TEST_KEY, withSandbox } from '../support/sandbox.js';

/**
 * report.html in a real browser (the machine's Chromium or the one shipped in an npm package,
 * driven by playwright-core), read as the clinic manager who signs it off: it renders with nothing
 * fetched, every figure on it is the one in report.json, its words fit the mode, times are in the
 * business's zone, the chart is drawn to scale, the filters work, it prints, and a screenshot is kept.
 */
/** Where the screenshot goes: `TEST_ARTIFACTS_DIR` to keep it, else the run's temp folder (removed). */
const ARTIFACTS = process.env.TEST_ARTIFACTS_DIR;

function problem(i: number, entity: string, severity: Problem['severity'], code: string): Problem {
  return {
    entity,
    sourceId: `S${i}`,
    file: `${entity}.csv`,
    row: i + 2,
    field: 'Field',
    code,
    severity,
    message: `problem ${i} <b>not markup</b>`,
  };
}

function sampleReport(): RunReport {
  const entities = emptyEntities();
  Object.assign(entities.patients, {
    source: 120,
    created: 90,
    alreadyPresent: 10,
    updated: 4,
    skipped: 5,
    invalid: 10,
    failed: 5,
    missingFromExport: 3,
  });
  Object.assign(entities.appointments, { source: 400, created: 380, invalid: 20 });
  Object.assign(entities.appointmentTypes, { source: 6, created: 6 });
  Object.assign(entities.clinicalNotes, { source: 50, created: 50 });
  const problems = [
    ...Array.from({ length: 10 }, (_, i) => problem(i, 'patients', 'error', 'REQUIRED_MISSING')),
    ...Array.from({ length: 20 }, (_, i) => problem(100 + i, 'appointments', 'error', 'INVALID_DATE')),
    ...Array.from({ length: 7 }, (_, i) =>
      problem(200 + i, 'appointments', 'warning', 'APPOINTMENT_TYPE_MISSING'),
    ),
    ...Array.from({ length: 5 }, (_, i) => problem(300 + i, 'patients', 'info', 'DUPLICATE_KEY')),
  ];
  return {
    runId: 'run-0123456789abcdef',
    mode: 'live',
    status: 'succeeded',
    source: { system: 'gensolve', file: 'export.zip', sha256: 'ab'.repeat(32) },
    startedAt: '2026-11-23T01:00:00.000Z',
    finishedAt: '2026-11-23T01:05:00.000Z',
    timeZone: 'Pacific/Auckland',
    entities,
    excluded: { invoices: 340, payments: 310 },
    problems,
    cliniko: { requests: 620, byStatus: { '201': 600, '429': 2 }, keys: 1, target: 'sandbox' },
    summary: { rowsRead: 1226, errors: 30, warnings: 7, infos: 5, seconds: 300 },
    approvalAids: {
      ...approvalAids([], []),
      busiestWeek: {
        weekStart: '2024-05-13',
        weekEnd: '2024-05-19',
        appointments: 9,
        byPractitioner: [
          { sourceId: 'P1', name: 'Hana Ruru', source: 6, cliniko: 6 },
          { sourceId: 'P2', source: 3, cliniko: 2 },
        ],
        byLocation: [{ sourceId: 'L1', name: 'Auckland Central', source: 9, cliniko: 8 }],
      },
      clientSample: [
        {
          sourceId: 'C1',
          file: 'Clients.csv',
          row: 2,
          outcome: 'planned',
          asExported: { FirstName: 'Ann', LastName: 'Lee', DateOfBirth: '03/02/1980' },
          asSent: { first_name: 'Ann', last_name: 'Lee', date_of_birth: '1980-02-03' },
        },
      ],
      appointmentSample: [
        {
          sourceId: 'A7',
          clientSourceId: 'C1',
          practitionerSourceId: 'P1',
          practitionerName: 'Hana Ruru',
          locationSourceId: 'L1',
          local: '2024-05-14T09:30',
          timeZone: 'Pacific/Auckland',
          utc: '2024-05-13T21:30:00.000Z',
          inBusinessZone: '2024-05-14 09:30 GMT+12 (Pacific/Auckland)',
          businessZone: 'Pacific/Auckland',
          status: 'Completed',
        },
      ],
      attachmentTotals: { letters: 2, uploads: 1, bytes: 3 * 1024 * 1024 },
    },
  };
}

/** A real dry run's report: a small generated export read against the sandbox. */
async function dryRunReport(): Promise<RunReport> {
  const path = join(await tempDir('report-export-'), 'g.zip');
  await generateExport(path, { patients: 25, seed: 3 });
  const sandbox = await withSandbox({ rateLimit: 100_000 });
  try {
    const { report } = await dryRunInto(sandbox, path, {
      config: { timeZone: 'Pacific/Auckland', unmatchedPractitioners: 'exclude' },
      apiKeys: [TEST_KEY],
    });
    return report;
  } finally {
    await sandbox.close();
  }
}

/** Sums what a `data-figure` names in report.json: dotted paths, `*` every key, `#` a length, `+`. */
function figure(report: unknown, spec: string): number {
  const walk = (node: unknown, parts: string[]): number => {
    const [head, ...rest] = parts;
    if (head === undefined) return typeof node === 'number' ? node : Number.NaN;
    if (head === '#') return Array.isArray(node) ? node.length : Number.NaN;
    if (node === null || typeof node !== 'object') return Number.NaN;
    if (head === '*') return Object.values(node).reduce((s: number, v) => s + walk(v, rest), 0);
    return walk((node as Record<string, unknown>)[head], rest);
  };
  return spec.split('+').reduce((s, path) => s + walk(report, path.split('.')), 0);
}

type Page = Awaited<ReturnType<Browser['newPage']>>;

let browser: Browser;
let close: () => Promise<void> = async () => undefined;
let page: Page;
let dryPage: Page;
let liveJson: RunReport;
let dryJson: RunReport;
const requests: string[] = [];

async function open(report: RunReport): Promise<{ page: Page; json: RunReport }> {
  const files = await writeReportFiles(await tempDir('report-'), report);
  const opened = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
  opened.on('request', (r) => requests.push(r.url()));
  await opened.goto(pathToFileURL(files.html).href);
  return { page: opened, json: JSON.parse(readFileSync(files.json, 'utf8')) as RunReport };
}

beforeAll(async () => {
  ({ browser, close } = await launchChromium());
  ({ page, json: liveJson } = await open(sampleReport()));
  ({ page: dryPage, json: dryJson } = await open(await dryRunReport()));
}, 60_000);

afterAll(async () => {
  await close();
});

const visibleProblems = () => page.locator('tr.problem:visible').count();

describe('report.html in Chromium', () => {
  it('renders on its own: title, summary and checklist, and nothing fetched', async () => {
    expect(await page.title()).toContain('run-0123456789abcdef');
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).toContain('Created in Cliniko');
    expect(text).toContain('Finish setting up appointment types in Cliniko');
    expect(text).toMatch(/Invoices\s*340/);
    // the problem text is shown as text, never run as markup
    expect(await page.locator('tr.problem b').count()).toBe(0);
    expect(requests.every((u) => u.startsWith('file:'))).toBe(true);
  });

  it('draws a bar per entity, each segment to scale', async () => {
    const bars = page.locator('#chart rect.bar');
    // patients: created, present, skipped, invalid, failed; appointments: created, invalid; types; notes
    expect(await bars.count()).toBe(9);
    const width = async (entity: string, segment: string) =>
      Number(
        await page
          .locator(`#chart rect[data-entity="${entity}"][data-segment="${segment}"]`)
          .getAttribute('width'),
      );
    const created = await width('patients', 'moved');
    const invalid = await width('patients', 'invalid');
    expect(created / invalid).toBeCloseTo(9, 1);
    const box = await page.locator('#chart').boundingBox();
    expect(box?.width).toBeGreaterThan(300);
  });

  it('filters the problems by entity, severity and text', async () => {
    expect(await visibleProblems()).toBe(42);
    await page.selectOption('#filter-entity', 'appointments');
    expect(await visibleProblems()).toBe(27);
    await page.selectOption('#filter-severity', 'warning');
    expect(await visibleProblems()).toBe(7);
    expect(await page.locator('#shown').textContent()).toBe('Showing 7 of 42');
    await page.selectOption('#filter-entity', '');
    await page.selectOption('#filter-severity', 'error');
    await page.fill('#filter-text', 'REQUIRED_MISSING');
    expect(await visibleProblems()).toBe(10);
    await page.fill('#filter-text', '');
    await page.selectOption('#filter-severity', '');
    expect(await visibleProblems()).toBe(42);
  });

  it('lays out the approval aids: the busy week beside Cliniko, clients field by field', async () => {
    const rows = page.locator('#busy-week-practitioners tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).textContent()).toBe('Hana Ruru (P1)66');
    expect(await page.locator('#busy-week-practitioners thead').textContent()).toContain('In Cliniko');
    await page.locator('#client-sample summary').first().click();
    const client = (await page.locator('#client-sample details').first().textContent()) ?? '';
    expect(client).toContain('03/02/1980');
    expect(client).toContain('1980-02-03');
  });

  it('shows every figure as report.json has it, in every place it appears', async () => {
    for (const [p, json] of [
      [page, liveJson],
      [dryPage, dryJson],
    ] as const) {
      const figures = await p
        .locator('[data-figure]')
        .evaluateAll((els) => els.map((e) => [e.getAttribute('data-figure') ?? '', e.textContent ?? '']));
      expect(figures.length).toBeGreaterThan(60);
      for (const [spec, text] of figures) {
        const value = figure(json, spec);
        const expected = spec.endsWith('.bytes') ? formatBytes(value) : value.toLocaleString('en-US');
        expect({ spec, text }).toEqual({ spec, text: expected });
      }
      // where the summary's numbers stand, each is one of those checked figures
      for (const where of [
        '.cards',
        'table.counts tbody',
        '#verdict',
        '#problem-summary',
        '#attachment-totals',
      ]) {
        const bare = await p
          .locator(where)
          .first()
          .evaluate((el) => {
            const copy = el.cloneNode(true) as typeof el;
            copy.querySelectorAll('[data-figure]').forEach((f: { remove(): void }) => {
              f.remove();
            });
            return copy.textContent ?? '';
          });
        expect({ where, digits: bare.match(/\d/g) ?? [] }).toEqual({ where, digits: [] });
      }
    }
    // and the figures agree with each other: each entity's row adds up to its rows in the export
    for (const k of ENTITY_KEYS) {
      const c = dryJson.entities[k];
      expect(c.planned + c.created + c.alreadyPresent + c.skipped + c.invalid + c.failed).toBe(c.source);
    }
  });

  it('says what the run came to: rows needing a decision, never a bare "succeeded"', async () => {
    const decide = ENTITY_KEYS.reduce(
      (n, k) => n + liveJson.entities[k].invalid + liveJson.entities[k].failed,
      0,
    );
    expect(decide).toBe(35);
    const verdict = page.locator('#verdict');
    expect(await verdict.textContent()).toBe('finished: 35 rows need a decision');
    expect(await verdict.getAttribute('class')).toContain('verdict-attention');
    expect(await page.locator('body').textContent()).not.toContain('succeeded');
    const dryDecide = ENTITY_KEYS.reduce(
      (n, k) => n + dryJson.entities[k].invalid + dryJson.entities[k].failed,
      0,
    );
    expect(await dryPage.locator('#verdict').textContent()).toBe(
      dryDecide
        ? `finished: ${dryDecide.toLocaleString('en-US')} row${dryDecide === 1 ? '' : 's'} need${dryDecide === 1 ? 's' : ''} a decision before approval`
        : 'finished: every row accounted for, ' +
            `${dryJson.summary.warnings} warning${dryJson.summary.warnings === 1 ? '' : 's'} to read`,
    );
  });

  it('uses the words of its mode: created in a live run, planned in a dry run', async () => {
    const liveHead = (await page.locator('table.counts thead').textContent()) ?? '';
    expect(liveHead).toContain('Created');
    expect(liveHead).not.toContain('To create');
    expect(await page.locator('.legend').textContent()).toContain('Created in Cliniko');
    expect(await page.locator('#client-sample summary').first().textContent()).toBe(
      'Client C1 (Clients.csv row 2): created',
    );
    const dryHead = (await dryPage.locator('table.counts thead').textContent()) ?? '';
    expect(dryHead).toContain('To create');
    expect(dryHead).not.toContain('Created');
    expect(await dryPage.locator('.cards').textContent()).toContain('Ready to create');
    expect(await dryPage.locator('.meta').textContent()).toContain('Dry run: nothing was written to Cliniko');
    expect(await dryPage.locator('#client-sample summary').first().textContent()).toMatch(
      /: (to be created|invalid|skipped|already in Cliniko)$/,
    );
  });

  it('gives times in the business’s zone in words, and names practitioners and locations', async () => {
    expect(await page.locator('#when').textContent()).toBe(
      'Monday 23 November 2026, 2:00 pm to 2:05 pm Auckland time (5 minutes)',
    );
    const appointment = (await page.locator('#appointment-sample tbody tr').first().textContent()) ?? '';
    expect(appointment).toContain('Hana Ruru (P1)');
    expect(appointment).toContain('Tue 14 May 2024, 9:30 am (Auckland time)');
    expect(appointment).toContain('Mon 13 May 2024, 9:30 pm');
    expect(await page.locator('#busy-week-locations tbody tr').first().textContent()).toBe(
      'Auckland Central (L1)98',
    );
    expect(await page.locator('p', { hasText: 'Busiest week' }).textContent()).toContain(
      'Busiest week: Mon 13 May to Sun 19 May 2024, 9 appointments',
    );
  });

  it('prints for signing: no filters, every client opened, a place to sign', async () => {
    await page.emulateMedia({ media: 'print' });
    try {
      expect(await page.locator('.filters').isVisible()).toBe(false);
      expect(await page.locator('.sign-off').isVisible()).toBe(true);
      const pdf = await page.pdf({ format: 'A4' });
      expect(pdf.subarray(0, 4).toString()).toBe('%PDF');
      expect(await page.locator('#client-sample details').first().getAttribute('open')).not.toBeNull();
    } finally {
      await page.emulateMedia({ media: 'screen' });
    }
  });

  it('keeps a screenshot of the page', async () => {
    const dir = ARTIFACTS ?? (await tempDir('artifacts-'));
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'report-page.png');
    await page.screenshot({ path, fullPage: true });
    await dryPage.screenshot({
      path: join(dir, 'report-page-dry-run.png'),
      clip: { x: 0, y: 0, width: 1280, height: 2400 },
    });
    const png = readFileSync(path);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
  });
});
