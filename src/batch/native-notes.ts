import { createHash } from 'node:crypto';
import type { MigrationConfig } from '../config/migration-config.js';
import type { ClinicalNote } from '../core/canonical.js';
import type { Problem } from '../core/problem.js';
import { templateName, treatmentNoteBody } from '../mapping/treatment-notes.js';
import type { WriteCommand } from '../ports/command-queue.js';
import type { RecordOutcome } from '../ports/outcomes.js';
import type { PractitionerRef } from '../translate/builders.js';
import { contentHash } from './payload.js';

/** A live note the batch planned, waiting for the batch's end to be bundled or written natively. */
export interface PendingNote {
  readonly record: ClinicalNote;
  readonly outcome: RecordOutcome;
  /** The Cliniko id of the note's patient. */
  readonly patientId: string;
}

/** A write a batch plans; the caller adds the run's ids (run, clinic, scope) to make it a command. */
export type PlannedWrite = Pick<WriteCommand, 'entity' | 'sourceId' | 'file' | 'row' | 'hash' | 'payload'> & {
  /** Set when the write is pinned to a key (a note's author); otherwise the caller spreads it. */
  readonly keyIndex?: number;
  readonly pinnedKey?: true;
};

/** One of `n` lanes (keys), the same for a source id every time. */
export function lane(sourceId: string, n: number): number {
  return Number.parseInt(createHash('md5').update(sourceId).digest('hex').slice(0, 8), 16) % Math.max(1, n);
}

/** What the notes' decisions need of the run. */
export interface NotesRun {
  readonly config: MigrationConfig;
  readonly practitioners: Readonly<Record<string, PractitionerRef>>;
  /**
   * The Cliniko practitioner each key writes as (null: none), in key order (Cliniko's API
   * documentation on users).
   */
  readonly keyPractitioners?: readonly (string | null)[];
}

const authorName = (note: ClinicalNote, practitioner: PractitionerRef | undefined) =>
  practitioner?.name ??
  (note.practitionerSourceId ? `practitioner ${note.practitionerSourceId}` : 'no practitioner');

/**
 * How a native note is written, decided once for the dry run and the live run alike
 * (docs/CONFIGURATION.md, `notesWithoutAuthorKey`; Cliniko's API documentation on treatment
 * notes: a note's author is the user whose key writes it):
 * - `author`: under its author's key (`keyIndex`, in key order);
 * - `any-key`: its author has no key; written under a practitioner's key (`keyIndex`, the same
 *   for a note every time) with "Written by" (`writtenBy`) as its first line;
 * - `pdf`: into the patient's notes PDF (`"pdf"`, or no key belongs to a practitioner);
 * - `skip`: not migrated (`"skip"`).
 * Every choice but `author` carries its NOTE_AUTHOR_HAS_NO_KEY problem at `at` (file, row and the
 * note's client).
 */
export type AuthorDecision =
  | { readonly action: 'author'; readonly keyIndex: number }
  | {
      readonly action: 'any-key';
      readonly keyIndex: number;
      readonly writtenBy: { readonly name: string; readonly date: string };
      readonly problem: Problem;
    }
  | { readonly action: 'pdf'; readonly problem: Problem }
  | { readonly action: 'skip'; readonly problem: Problem };

export function authorDecision(
  note: ClinicalNote,
  run: NotesRun,
  at: { readonly file: string; readonly row: number; readonly clientSourceId?: string | undefined },
): AuthorDecision {
  const keyOf = new Map<string, number>();
  for (const [i, p] of (run.keyPractitioners ?? []).entries()) if (p && !keyOf.has(p)) keyOf.set(p, i);
  const practitioner = note.practitionerSourceId ? run.practitioners[note.practitionerSourceId] : undefined;
  const authorKey = practitioner?.clinikoId ? keyOf.get(practitioner.clinikoId) : undefined;
  if (authorKey !== undefined) return { action: 'author', keyIndex: authorKey };
  const who = authorName(note, practitioner);
  const problem = (severity: Problem['severity'], consequence: string): Problem => ({
    entity: 'clinicalNotes',
    sourceId: note.sourceId,
    file: at.file,
    row: at.row,
    ...(at.clientSourceId ? { clientSourceId: at.clientSourceId } : {}),
    field: 'PractitionerId',
    code: 'NOTE_AUTHOR_HAS_NO_KEY',
    severity,
    message: `the note's author (${who}) has no API key among the configured ones${consequence}`,
  });
  const policy = run.config.notesWithoutAuthorKey;
  if (policy === 'skip')
    return { action: 'skip', problem: problem('info', ': not migrated ("notesWithoutAuthorKey": "skip")') };
  const practitionerKeys = [...keyOf.values()];
  if (policy === 'pdf' || !practitionerKeys.length)
    return {
      action: 'pdf',
      problem: problem(
        'warning',
        `${policy === 'pdf' ? '' : ' and no key belongs to a practitioner'}: it goes into the patient's notes PDF`,
      ),
    };
  return {
    action: 'any-key',
    keyIndex: practitionerKeys[lane(note.sourceId, practitionerKeys.length)] ?? 0,
    writtenBy: { name: practitioner?.name ?? who, date: note.date },
    problem: problem('warning', ': written under another practitioner with "Written by" as its first line'),
  };
}

export interface NativeNotes {
  readonly outcomes: RecordOutcome[];
  readonly writes: PlannedWrite[];
  readonly problems: Problem[];
  /** Notes that go into the patient's PDF instead (`notesWithoutAuthorKey: "pdf"`, or no key is a practitioner's). */
  readonly toPdf: PendingNote[];
  readonly enqueued: number;
  readonly skipped: number;
}

/**
 * Live notes → native treatment notes, each pinned to its author's key (the key whose user is the
 * note's practitioner, Cliniko's API documentation on treatment notes). A note whose practitioner
 * has no key follows `notesWithoutAuthorKey`: into the PDF bundle (`pdf`, returned in `toPdf`),
 * written with a practitioner's key and a "Written by" first line (`any-key`), or skipped and
 * reported (`skip`). `bookingId` and `templateId` look up the id map (appointments; templates by
 * name).
 */
export function nativeNoteWrites(
  notes: readonly PendingNote[],
  run: NotesRun,
  bookingId: (appointmentSourceId: string) => string | undefined,
  templateId: (templateName: string) => string | undefined,
): NativeNotes {
  const out = {
    outcomes: [] as RecordOutcome[],
    writes: [] as PlannedWrite[],
    problems: [] as Problem[],
    toPdf: [] as PendingNote[],
    enqueued: 0,
    skipped: 0,
  };
  for (const n of notes) {
    const note = n.record;
    const decision = authorDecision(note, run, n.outcome);
    if (decision.action !== 'author') out.problems.push(decision.problem);
    if (decision.action === 'skip') {
      out.skipped++;
      out.outcomes.push({ ...n.outcome, outcome: 'skipped', reason: 'NOTE_AUTHOR_HAS_NO_KEY' });
      continue;
    }
    if (decision.action === 'pdf') {
      out.toPdf.push(n);
      continue;
    }
    const keyIndex = decision.keyIndex;
    const writtenBy = decision.action === 'any-key' ? decision.writtenBy : undefined;
    const booking = note.appointmentSourceId ? bookingId(note.appointmentSourceId) : undefined;
    const template = templateId(templateName(note));
    const body = treatmentNoteBody(note, {
      patientId: n.patientId,
      ...(booking ? { bookingId: booking } : {}),
      ...(template ? { templateId: template } : {}),
      ...(writtenBy ? { writtenBy } : {}),
    });
    out.outcomes.push(n.outcome);
    out.enqueued++;
    out.writes.push({
      entity: 'clinicalNotes',
      sourceId: note.sourceId,
      file: n.outcome.file,
      row: n.outcome.row,
      hash: n.outcome.hash ?? contentHash(body),
      keyIndex,
      pinnedKey: true,
      payload: { kind: 'treatmentNote', body },
    });
  }
  return out;
}
