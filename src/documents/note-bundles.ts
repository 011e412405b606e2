import { createHash } from 'node:crypto';
import type { MigrationConfig } from '../config/migration-config.js';
import type * as M from '../core/canonical.js';
import type { Problem } from '../core/problem.js';
import { uncovered } from './fonts.js';
import { displayDate, sortNotes } from './notes-pdf.js';

/**
 * How clinical notes become attachments: one PDF per patient (the default, fewest requests) or
 * one per note. A bundle's id names its patient and the notes it carries, so a later export that
 * adds notes makes a new bundle of just those, and a re-run of the same export makes the same one.
 */
export interface NoteBundle {
  /** The id map key of the attachment (a note's own id for a single note). */
  readonly sourceId: string;
  readonly patientSourceId: string;
  /** In date order. */
  readonly notes: readonly M.ClinicalNote[];
  /** Set for a bundle of several notes: each is recorded as written with the bundle's attachment. */
  readonly members?: readonly string[];
  /** At most 255 characters: what Cliniko shows, and the key the attachment is re-found by. */
  readonly description: string;
  readonly filename: string;
}

const short = (ids: readonly string[]) =>
  createHash('sha256').update(ids.join('\u0000')).digest('hex').slice(0, 8);

const cut = (s: string, n: number) => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

const fileSafe = (s: string) => s.replace(/[^\w.-]+/g, '_').slice(0, 80);

export function bundleNotes(
  notes: readonly M.ClinicalNote[],
  mode: MigrationConfig['clinicalNotes'],
): NoteBundle[] {
  if (mode === 'pdf-per-note') {
    return sortNotes(notes).map((n) => ({
      sourceId: n.sourceId,
      patientSourceId: n.patientSourceId,
      notes: [n],
      description: `${cut(`${n.date} ${n.noteType ?? n.assessmentType ?? 'Clinical note'}`, 200)} [Note ${cut(n.sourceId, 40)}]`,
      filename: `clinical-note-${n.date}-${fileSafe(n.sourceId)}.pdf`,
    }));
  }
  const byPatient = new Map<string, M.ClinicalNote[]>();
  for (const n of notes) {
    const list = byPatient.get(n.patientSourceId) ?? [];
    list.push(n);
    byPatient.set(n.patientSourceId, list);
  }
  const bundles: NoteBundle[] = [];
  for (const patient of [...byPatient.keys()].sort()) {
    const sorted = sortNotes(byPatient.get(patient) ?? []);
    const ids = sorted.map((n) => n.sourceId);
    const tag = short(ids);
    const first = sorted[0]?.date ?? '';
    const last = sorted.at(-1)?.date ?? '';
    const span = first === last ? displayDate(first) : `${displayDate(first)} to ${displayDate(last)}`;
    bundles.push({
      sourceId: `notes:${patient}:${tag}`,
      patientSourceId: patient,
      notes: sorted,
      members: ids,
      description: `Clinical notes, ${span} (${sorted.length} note${sorted.length === 1 ? '' : 's'}) [Notes ${cut(patient, 60)} ${tag}]`,
      filename: `clinical-notes-${fileSafe(patient)}-${tag}.pdf`,
    });
  }
  return bundles;
}

/** A warning for each part of a note holding characters no embedded font can draw. */
export function noteGlyphProblems(note: M.ClinicalNote, file: string, row: number): Problem[] {
  const problems: Problem[] = [];
  const check = (field: string, text: string | undefined) => {
    if (!text) return;
    const missing = uncovered(text);
    if (!missing.length) return;
    problems.push({
      entity: 'clinicalNotes',
      sourceId: note.sourceId,
      file,
      row,
      field,
      code: 'GLYPH_MISSING',
      severity: 'warning',
      message: `no embedded font can draw ${missing
        .slice(0, 5)
        .map((c) => `U+${(c.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`)
        .join(
          ', ',
        )}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}: shown as a box in the PDF`,
    });
  };
  check('NoteType', note.noteType);
  for (const s of note.sections) check(s.title, s.text);
  return problems;
}
