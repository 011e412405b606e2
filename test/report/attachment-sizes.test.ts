import { describe, expect, it } from '@jest/globals';
import { emptyEntities } from '../../src/core/entities.js';
import type { ApprovalAids } from '../../src/report/aids-model.js';
import { reportHtml } from '../../src/report/report-page.js';
import type { RunReport } from '../../src/report/run-report.js';

/** Issue 26: a 40 KB export of attachments was shown as "0.0 MB", and each client's as raw bytes. */
function report(attachments: { total: number; byClient: number[] }): RunReport {
  const approvalAids: ApprovalAids = {
    clientSample: [],
    busiestWeek: null,
    appointmentSample: [],
    dstEdgeCases: [],
    notesByClient: [],
    attachmentsByClient: attachments.byClient.map((bytes, i) => ({
      clientSourceId: `C${i + 1}`,
      letters: 1,
      uploads: 1,
      bytes,
    })),
    attachmentTotals: { letters: 3, uploads: 4, bytes: attachments.total },
    ambiguousDateColumns: [],
  };
  return {
    runId: 'run-sizes',
    mode: 'dry-run',
    status: 'succeeded',
    source: { system: 'gensolve', file: 'export.zip', sha256: 'ab'.repeat(32) },
    startedAt: '2026-11-23T01:00:00.000Z',
    finishedAt: '2026-11-23T01:05:00.000Z',
    timeZone: 'Pacific/Auckland',
    entities: emptyEntities(),
    excluded: {},
    problems: [],
    approvalAids,
    cliniko: { requests: 0, byStatus: {}, keys: 1, target: 'sandbox' },
    summary: { rowsRead: 0, errors: 0, warnings: 0, infos: 0, seconds: 300 },
  };
}

const bare = (html: string) => html.replace(/<[^>]+>/g, '');

describe('attachment sizes on the report page', () => {
  it('says the total in the unit that fits it', () => {
    const small = /<p id="attachment-totals">(.*?)<\/p>/s.exec(
      reportHtml(report({ total: 41_165, byClient: [] })),
    );
    expect(bare(small?.[1] ?? '')).toContain('uploaded files, 40.2 KB in all.');
    const large = /<p id="attachment-totals">(.*?)<\/p>/s.exec(
      reportHtml(report({ total: 3 * 1024 ** 3, byClient: [] })),
    );
    expect(bare(large?.[1] ?? '')).toContain('uploaded files, 3 GB in all.');
  });

  it("gives each sampled client's size in words, under a Size column", () => {
    const html = reportHtml(report({ total: 3_600_000, byClient: [812, 3_565_158] }));
    const table = /<h3>Attachments<\/h3>.*?(<table>.*?<\/table>)/s.exec(html)?.[1] ?? '';
    expect(bare(table)).toContain('Size');
    expect(bare(table)).not.toContain('Bytes');
    expect(bare(table)).toContain('812 B');
    expect(bare(table)).toContain('3.4 MB');
    expect(bare(table)).not.toContain('3,565,158');
  });
});
