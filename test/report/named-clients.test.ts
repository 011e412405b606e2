import { describe, expect, it } from '@jest/globals';
import { emptyEntities } from '../../src/core/entities.js';
import type { Problem } from '../../src/core/problem.js';
import type { ApprovalAids } from '../../src/report/aids-model.js';
import { clientIdsOf, withClientNames } from '../../src/report/named-clients.js';
import { aidsSection } from '../../src/report/page-aids.js';
import { problemsCsv, type RunReport } from '../../src/report/run-report.js';

/**
 * Issue 26: the report names the clients it mentions ("Jane Citizen (C9)") in its samples and
 * problems, from names read out of the export when the report is written.
 */
const aids: ApprovalAids = {
  clientSample: [{ sourceId: 'C9', file: 'Clients.csv', row: 10, asExported: {}, outcome: 'planned' }],
  busiestWeek: null,
  appointmentSample: [
    {
      sourceId: 'A1',
      clientSourceId: 'C31',
      practitionerSourceId: 'P1',
      local: '2024-05-13T09:00',
      timeZone: 'Pacific/Auckland',
      utc: '2024-05-12T21:00:00Z',
      inBusinessZone: '2024-05-13T09:00',
      status: 'booked',
    },
  ],
  dstEdgeCases: [],
  notesByClient: [
    { clientSourceId: 'C9', notes: [{ sourceId: 'N1', date: '2024-05-13', row: 2 }], inDateOrder: true },
  ],
  attachmentsByClient: [{ clientSourceId: 'C31', letters: 1, uploads: 0, bytes: 10 }],
  attachmentTotals: { letters: 1, uploads: 0, bytes: 10 },
  ambiguousDateColumns: [],
};

const problem = (entity: string, sourceId: string, client?: string): Problem => ({
  entity,
  sourceId,
  file: `${entity}.csv`,
  row: 2,
  field: 'F',
  code: 'X',
  severity: 'warning',
  message: 'm',
  ...(client ? { clientSourceId: client } : {}),
});

const problems = [
  problem('patients', 'C9'),
  problem('appointments', 'A7', 'C31'),
  problem('clinicalNotes', 'N2', 'C404'),
  problem('export', ''),
];
const names = new Map([
  ['C9', { name: 'Jane Citizen', dateOfBirth: '1980-02-03' }],
  ['C31', { name: 'Hemi Walker' }],
]);

describe('clients named in the report', () => {
  it('asks the export for every client the samples and problems mention, once each', () => {
    expect([...clientIdsOf(aids, problems)].sort()).toEqual(['C31', 'C404', 'C9']);
  });

  it('puts each name beside its id in samples and problems, leaving ids the export does not name', () => {
    const shown = withClientNames(aids, problems, names);
    expect(shown.problems.map((p) => p.patient)).toEqual([
      'Jane Citizen (C9)',
      'Hemi Walker (C31)',
      undefined,
      undefined,
    ]);
    expect(shown.aids.clientSample[0]?.clientName).toBe('Jane Citizen');
    expect(shown.aids.appointmentSample[0]?.clientName).toBe('Hemi Walker');
    const report: RunReport = {
      runId: 'run-1',
      mode: 'dry-run',
      status: 'succeeded',
      source: { system: 'gensolve', file: 'x.zip', sha256: '' },
      startedAt: '2024-06-01T00:00:00Z',
      finishedAt: '2024-06-01T00:01:00Z',
      entities: emptyEntities(),
      excluded: {},
      problems: shown.problems,
      cliniko: { requests: 0, byStatus: {}, keys: 1, target: '' },
      approvalAids: shown.aids,
      summary: { rowsRead: 0, errors: 0, warnings: 0, infos: 0, seconds: 60 },
    };
    const html = aidsSection(report);
    expect(html).toContain('Jane Citizen (C9)');
    expect(html).toContain('Hemi Walker (C31)');
    // the birth date is the PDF's, not the report's
    expect(html).not.toContain('1980');
    expect(problemsCsv(shown.problems).split('\r\n')[2]).toBe(
      'appointments,A7,Hemi Walker (C31),appointments.csv,2,F,X,warning,m',
    );
  });
});
