import type { RunInfo } from '../ports/runs.js';
import type { WriteOutcome } from '../ports/write-ledger.js';
import { csvCell } from './run-report.js';

/**
 * The run's audit trail as CSV: who started the run, from which export (its sha256), with which
 * keys (their last four characters, never the key), and every record written to Cliniko with its
 * source id, Cliniko id, outcome and time. Ids only: no names, no clinical content.
 */
const COLUMNS = [
  'runId',
  'mode',
  'startedBy',
  'startedAt',
  'exportFile',
  'sha256',
  'keys',
  'entity',
  'sourceId',
  'outcome',
  'clinikoId',
  'at',
] as const;

export interface AuditWrite {
  readonly entity: string;
  readonly sourceId: string;
  readonly outcome?: WriteOutcome;
  readonly clinikoId?: string;
  readonly at?: string;
}

export function auditCsv(run: RunInfo, writes: readonly AuditWrite[]): string {
  const head = [
    run.runId,
    run.mode,
    run.startedBy,
    run.startedAt,
    run.exportFile,
    run.sha256,
    (run.keyLabels ?? []).join(' '),
  ];
  const lines = [COLUMNS.join(',')];
  const sorted = [...writes]
    .filter((w) => w.outcome !== undefined)
    .sort((a, b) =>
      a.entity === b.entity
        ? a.sourceId.localeCompare(b.sourceId, 'en', { numeric: true })
        : a.entity < b.entity
          ? -1
          : 1,
    );
  for (const w of sorted)
    lines.push([...head, w.entity, w.sourceId, w.outcome, w.clinikoId, w.at].map(csvCell).join(','));
  if (!sorted.length) lines.push([...head, '', '', '', '', ''].map(csvCell).join(','));
  return `${lines.join('\r\n')}\r\n`;
}
