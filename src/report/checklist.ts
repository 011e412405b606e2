import { displayName, ENTITY_KEYS } from '../core/entities.js';
import type { ChecklistItem, RunReport } from './run-report.js';

/** What the clinic does after the run: Cliniko set-up the API cannot do, and what did not move. */
export function followUpChecklist(report: RunReport): ChecklistItem[] {
  const e = report.entities;
  const list: ChecklistItem[] = [];
  const n = (x: number) => x.toLocaleString('en-US');
  if (report.mode === 'dry-run') {
    list.push({
      item: 'Check this dry run before approving it',
      detail: `Nothing was written to Cliniko. Fix the export or migration.json for the ${n(report.summary.errors)} errors and review the ${n(report.summary.warnings)} warnings, run again until it is clean, then approve the run (cliniko-migrate approve ${report.runId}).`,
    });
  }
  const types = e.appointmentTypes.created + e.appointmentTypes.planned + e.appointmentTypes.alreadyPresent;
  const migratedType = report.problems.some(
    (p) => p.code === 'APPOINTMENT_TYPE_MISSING' || p.code === 'APPOINTMENT_TYPE_UNKNOWN',
  );
  list.push({
    item: 'Finish setting up appointment types in Cliniko',
    detail: `${n(types)} appointment types${migratedType ? ', and "Migrated appointment" for appointments without a type,' : ''} need their practitioners, colours, billable items and treatment note templates: the API cannot set these.`,
  });
  const excluded = Object.entries(report.excluded).filter(([, count]) => count > 0);
  if (excluded.length)
    list.push({
      item: 'Keep the financial records of the old system',
      detail: `Not transferable to Cliniko: ${excluded.map(([k, count]) => `${displayName(k)} ${n(count)}`).join(', ')} rows. Keep an export or read-only access to the old system for them (and for ACC claims).`,
    });
  const failed = ENTITY_KEYS.reduce((s, k) => s + e[k].failed, 0);
  if (failed)
    list.push({
      item: `Resolve ${n(failed)} records that failed`,
      detail:
        'They are in the problem list with Cliniko’s reason. Running the same export again writes only what is missing; nothing is duplicated.',
    });
  const invalid = ENTITY_KEYS.reduce((s, k) => s + e[k].invalid, 0);
  if (invalid)
    list.push({
      item: `Review ${n(invalid)} rows that could not be migrated`,
      detail:
        'Each is in the problem list with its file, row and field. Correct them in the old system or the export and run again.',
    });
  const missing = ENTITY_KEYS.reduce((s, k) => s + e[k].missingFromExport, 0);
  if (missing)
    list.push({
      item: `Decide about ${n(missing)} records no longer in the export`,
      detail:
        'An earlier run wrote them to Cliniko and this export does not hold them. They were left in Cliniko; archive them there if they should go.',
    });
  if (report.problems.some((p) => p.code === 'DATE_ORDER_AMBIGUOUS'))
    list.push({
      item: 'Confirm the day and month order of dates',
      detail:
        'A date column has no day above 12, so day and month could be swapped. Compare a few dates with the old system.',
    });
  if (report.mode === 'live')
    list.push({
      item: 'Spot-check Cliniko',
      detail:
        'Open a sample of patients, a busy week of appointments per practitioner, and a few patients’ clinical notes PDFs and attachments, and compare them with the old system.',
    });
  return list;
}
