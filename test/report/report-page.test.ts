import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Browser } from 'playwright-core';
import { emptyEntities } from '../../src/migration/entities.js';
import { approvalAids } from '../../src/report/approval-aids.js';
import type { Problem } from '../../src/report/problem.js';
import { type RunReport, writeReportFiles } from '../../src/report/run-report.js';
import { launchChromium } from '../support/chromium.js';
import { tempDir } from '../support/exports.js';

/**
 * report.html in a real browser (the machine's Chromium or the one shipped in an npm package, driven by
 * playwright-core): it renders with
 * nothing fetched, the chart is drawn to scale, the filters work, and a screenshot is kept.
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
        byLocation: [{ sourceId: 'L1', source: 9, cliniko: 8 }],
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
    },
  };
}

let browser: Browser;
let close: () => Promise<void> = async () => undefined;
let page: Awaited<ReturnType<Browser['newPage']>>;
const requests: string[] = [];

beforeAll(async () => {
  const dir = await tempDir('report-');
  const files = await writeReportFiles(dir, sampleReport());
  ({ browser, close } = await launchChromium());
  page = await browser.newPage({ viewport: { width: 1280, height: 1800 } });
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(pathToFileURL(files.html).href);
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
    expect(text).toMatch(/invoices\s*340/);
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

  it('keeps a screenshot of the page', async () => {
    const dir = ARTIFACTS ?? (await tempDir('artifacts-'));
    mkdirSync(dir, { recursive: true });
    const path = join(dir, 'report-page.png');
    await page.screenshot({ path, fullPage: true });
    const png = readFileSync(path);
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(20_000);
  });
});
