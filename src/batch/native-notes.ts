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

/** Who wrote a note that no configured key can write as (their name), or nothing. */
export function authorWithoutKey(note: ClinicalNote, run: NotesRun): string | undefined {
  const practitioner = note.practitionerSourceId ? run.practitioners[note.practitionerSourceId] : undefined;
  const id = practitioner?.clinikoId;
  if (id && (run.keyPractitioners ?? []).includes(id)) return undefined;
  return authorName(note, practitioner);
}

/**
 * The dry run's word on a native note whose author has no key (docs/CONFIGURATION.md,
 * `notesWithoutAuthorKey`), as the live run will act on it: NOTE_AUTHOR_HAS_NO_KEY, info when it is
 * skipped, else a warning.
 */
export function authorKeyProblem(
  note: ClinicalNote,
  run: NotesRun,
  at: { file: string; row: number },
): Problem | undefined {
  const missing = authorWithoutKey(note, run);
  if (!missing) return undefined;
  const policy = run.config.notesWithoutAuthorKey;
  return {
    entity: 'clinicalNotes',
    sourceId: note.sourceId,
    file: at.file,
    row: at.row,
    field: 'PractitionerId',
    code: 'NOTE_AUTHOR_HAS_NO_KEY',
    severity: policy === 'skip' ? 'info' : 'warning',
    message: `the note's author (${missing}) has no API key among the configured ones: ${
      policy === 'skip'
        ? 'it will not be migrated ("notesWithoutAuthorKey": "skip")'
        : policy === 'any-key'
          ? 'it will be written under another practitioner with "Written by" as its first line'
          : "it will go into the patient's notes PDF"
    }`,
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
  const keyOf = new Map<string, number>();
  for (const [i, p] of (run.keyPractitioners ?? []).entries()) if (p && !keyOf.has(p)) keyOf.set(p, i);
  const practitionerKeys = [...keyOf.values()];
  const policy = run.config.notesWithoutAuthorKey;
  for (const n of notes) {
    const note = n.record;
    const practitioner = note.practitionerSourceId ? run.practitioners[note.practitionerSourceId] : undefined;
    const authorKey = practitioner?.clinikoId ? keyOf.get(practitioner.clinikoId) : undefined;
    const problem = (severity: Problem['severity'], message: string): Problem => ({
      entity: 'clinicalNotes',
      sourceId: note.sourceId,
      file: n.outcome.file,
      row: n.outcome.row,
      field: 'PractitionerId',
      code: 'NOTE_AUTHOR_HAS_NO_KEY',
      severity,
      message,
    });
    const who = authorName(note, practitioner);
    let keyIndex = authorKey;
    let writtenBy: { name: string; date: string } | undefined;
    if (keyIndex === undefined) {
      if (policy === 'skip') {
        out.skipped++;
        out.outcomes.push({ ...n.outcome, outcome: 'skipped', reason: 'NOTE_AUTHOR_HAS_NO_KEY' });
        out.problems.push(
          problem(
            'info',
            `not migrated: the note's author (${who}) has no API key among the configured ones ("notesWithoutAuthorKey": "skip")`,
          ),
        );
        continue;
      }
      if (policy === 'pdf' || !practitionerKeys.length) {
        out.toPdf.push(n);
        out.problems.push(
          problem(
            'warning',
            `the note's author (${who}) has no API key among the configured ones${policy === 'pdf' ? '' : ' and no key belongs to a practitioner'}: it goes into the patient's notes PDF`,
          ),
        );
        continue;
      }
      // any-key: a practitioner's key, spread by note; the first line says who really wrote it.
      keyIndex = practitionerKeys[lane(note.sourceId, practitionerKeys.length)];
      writtenBy = { name: practitioner?.name ?? who, date: note.date };
      out.problems.push(
        problem(
          'warning',
          `the note's author (${who}) has no API key among the configured ones: written under another practitioner with "Written by" as its first line`,
        ),
      );
    }
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
      keyIndex: keyIndex ?? 0,
      pinnedKey: true,
      payload: { kind: 'treatmentNote', body },
    });
  }
  return out;
}
