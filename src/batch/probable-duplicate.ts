import type { MigrationConfig } from '../config/migration-config.js';
import type { Patient } from '../core/canonical.js';
import type { Problem } from '../core/problem.js';
import { DuplicateIndex } from '../reconcile/duplicates.js';

/**
 * An export patient that matches a Cliniko patient not written under its source id (issue 11;
 * docs/CONFIGURATION.md, `existingPatients`). `report` (the default) holds it back, and with it its
 * appointments, notes and documents (their parent is skipped); `link` adopts the one match (more
 * than one is held back: which one is for the clinic to say); `create` creates it, noted.
 */
export function probableDuplicate(
  patient: Patient,
  mode: MigrationConfig['existingPatients'],
  index: DuplicateIndex,
  written: boolean,
  file: string,
  row: number,
): { hold: boolean; problem: Problem; link?: { clinikoId: string; setReference: boolean } } | undefined {
  // its own record, written by an earlier run (and still in the account): not a duplicate
  if (written || index.hasReference(patient.sourceId)) return undefined;
  const found = index.candidates(patient);
  const [first] = found;
  if (!first) return undefined;
  // Each candidate names what it shares with this patient: only what was compared and agreed.
  const who = found
    .map(
      (c) =>
        `Cliniko patient ${c.id} (${c.oldReferenceId ? `written under source id ${c.oldReferenceId}` : 'entered in Cliniko'}; same ${DuplicateIndex.matchedOn(patient, c)})`,
    )
    .join(', ');
  const base = { entity: 'patients', sourceId: patient.sourceId, file, row, field: 'ClientId' };
  if (mode === 'create')
    return {
      hold: false,
      problem: {
        ...base,
        code: 'PROBABLE_DUPLICATE_CREATED',
        severity: 'warning',
        message: `probably the same patient as ${who}; created as a new patient anyway ("existingPatients": "create"). Appointments already in Cliniko stay under their patient`,
      },
    };
  if (mode === 'link' && found.length === 1)
    return {
      hold: false,
      link: { clinikoId: first.id, setReference: !first.oldReferenceId },
      problem: {
        ...base,
        code: 'LINKED_TO_EXISTING',
        severity: 'info',
        message: `adopted as ${who} ("existingPatients": "link"): not created; its records are written under it`,
      },
    };
  return {
    hold: true,
    problem: {
      ...base,
      code: 'PROBABLE_DUPLICATE',
      severity: 'warning',
      message: `probably the same patient as ${who}; not created, and its appointments, notes and documents are held back. Set "existingPatients" to "link" to adopt it or "create" to create a new patient`,
    },
  };
}
