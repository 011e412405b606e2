import { describe, expect, it } from '@jest/globals';
import { emptyEntities } from '../../src/core/entities.js';
import { reportHtml } from '../../src/report/report-page.js';
import type { RunReport } from '../../src/report/run-report.js';

/**
 * Issue 23: the report counted 5 appointment types where Cliniko held 6 (the "Migrated
 * appointment" type the run created has no source row). The page says what was written beside
 * the export's rows, and nothing when there was none.
 */
function report(supportRecords?: RunReport['supportRecords']): RunReport {
  const entities = emptyEntities();
  Object.assign(entities.appointmentTypes, { source: 5, created: 5 });
  return {
    runId: 'run-support',
    mode: 'live',
    status: 'succeeded',
    source: { system: 'gensolve', file: 'export.zip', sha256: 'ab'.repeat(32) },
    startedAt: '2026-11-23T01:00:00.000Z',
    finishedAt: '2026-11-23T01:05:00.000Z',
    timeZone: 'Pacific/Auckland',
    entities,
    excluded: {},
    ...(supportRecords ? { supportRecords } : {}),
    problems: [],
    cliniko: { requests: 6, byStatus: { '201': 6 }, keys: 1, target: 'sandbox' },
    summary: { rowsRead: 5, errors: 0, warnings: 0, infos: 0, seconds: 300 },
  };
}

const text = (html: string) =>
  /<p id="support-records">(.*?)<\/p>/s
    .exec(html)?.[1]
    ?.replace(/<[^>]+>/g, '')
    .replaceAll('&quot;', '"') ?? '';

describe('records written without a row of the export', () => {
  it('are counted on the page: the fallback appointment type and the templates', () => {
    const html = reportHtml(
      report({
        migratedAppointmentType: { created: 1, alreadyPresent: 0, failed: 0 },
        treatmentNoteTemplates: { created: 0, alreadyPresent: 2, failed: 1 },
      }),
    );
    expect(text(html)).toBe(
      'Also written, without a row of the export: 1 "Migrated appointment" type created, 2 treatment note templates already in Cliniko, 1 treatment note template failed.',
    );
  });

  it('leave the page unchanged when there are none', () => {
    expect(reportHtml(report())).not.toContain('support-records');
  });
});
