import { createHash } from 'node:crypto';
import { lane, type PendingNote } from '../../src/batch/native-notes.js';
import type { ClinicalNote } from '../../src/core/canonical.js';
import type { Problem } from '../../src/core/problem.js';
import { bundleNotes } from '../../src/documents/note-bundles.js';
import { renderNotesPdf } from '../../src/documents/notes-pdf.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { keys } from '../../src/ports/bucket-keys.js';
import type { CommandQueue, WriteCommand } from '../../src/ports/command-queue.js';
import type { IdMap } from '../../src/ports/id-map.js';
import type { RecordOutcome } from '../../src/ports/outcomes.js';
import type { RunInfo } from '../../src/ports/runs.js';
import type { WriteLedger } from '../../src/ports/write-ledger.js';
import type { ClientName } from '../../src/translate/client-names.js';
import { commandFor } from './commands.js';

/** What making notes PDFs reads and writes: the id map, the run's files. */
export interface NotePdfDeps {
  readonly blobs: BlobStore;
  readonly store: IdMap & WriteLedger;
  /** Renders a notes PDF (tests put a failing one in). */
  readonly renderPdf?: typeof renderNotesPdf;
  /** Given, PDFs go to the writers as they are made, SEND_EVERY at a time. */
  readonly queue?: CommandQueue;
}

/**
 * PDFs made before their upload commands are sent: rendering a partition's PDFs takes CPU
 * seconds, and the writers upload the first ones meanwhile instead of waiting for the last
 * (issue 16: a phase's writes should not wait for its slowest mapper). A redelivered batch sends
 * them again; the writer's id map makes a second send harmless.
 */
export const SEND_EVERY = 20;

/**
 * Live notes → PDFs in the run's files → one upload command per PDF. Notes the clinic's id map
 * already holds (an earlier run wrote them) are recorded as present and left out of new PDFs.
 * With `deps.queue`, commands are sent as PDFs are made: `commands` holds only those not sent yet
 * (`enqueued` counts them all).
 */
export async function notePdfs(
  notes: readonly PendingNote[],
  run: RunInfo,
  deps: NotePdfDeps,
  /** Who each patient is (cover and page headers), read from the export for this batch: never stored. */
  names: ReadonlyMap<string, ClientName>,
  /** `notesArchive`: the PDF kept beside native notes, recorded apart from the notes themselves. */
  entity: 'clinicalNotes' | 'notesArchive' = 'clinicalNotes',
): Promise<{
  outcomes: RecordOutcome[];
  commands: WriteCommand[];
  problems: Problem[];
  planned: number;
  enqueued: number;
  failed: number;
}> {
  const out = {
    outcomes: [] as RecordOutcome[],
    commands: [] as WriteCommand[],
    problems: [] as Problem[],
    planned: 0,
    enqueued: 0,
    failed: 0,
  };
  const bySource = new Map(notes.map((n) => [n.record.sourceId, n]));
  const known = await deps.store.getIdMap(run.scope, entity, [...bySource.keys()]);
  const fresh: ClinicalNote[] = [];
  /** Where each note's outcome sits, so a failed PDF replaces it (one outcome per row). */
  const at = new Map<string, number>();
  for (const n of notes) {
    const entry = known.get(n.record.sourceId);
    at.set(n.record.sourceId, out.outcomes.length);
    out.outcomes.push(n.outcome);
    out.planned++;
    out.enqueued++;
    if (!entry) {
      fresh.push(n.record);
      continue;
    }
    await deps.store.recordWrite(run.runId, {
      entity,
      sourceId: n.record.sourceId,
      outcome: entry.runId === run.runId ? 'created' : 'alreadyPresent',
      clinikoId: entry.clinikoId,
    });
  }
  const mode = run.config.clinicalNotes === 'pdf-per-note' ? 'pdf-per-note' : 'pdf-per-patient';
  for (const made of bundleNotes(fresh, mode)) {
    // The archive's PDF is another attachment than a notes bundle of the same notes: its own key.
    const bundle =
      entity === 'notesArchive'
        ? {
            ...made,
            sourceId: `archive:${made.sourceId}`,
            description: made.description.replace(/^Clinical notes/, 'Clinical notes archive').slice(0, 255),
            filename: made.filename.replace(/^clinical-notes/, 'clinical-notes-archive'),
          }
        : made;
    const first = bySource.get(bundle.notes[0]?.sourceId ?? '');
    if (!first) continue;
    const label = names.get(bundle.patientSourceId);
    let pdf: Buffer;
    try {
      pdf = await (deps.renderPdf ?? renderNotesPdf)({
        ...(run.clinicName ? { clinic: run.clinicName } : {}),
        patient: { sourceId: bundle.patientSourceId, ...label },
        notes: bundle.notes.map((n) => ({
          ...n,
          ...(n.practitionerSourceId && run.practitioners[n.practitionerSourceId]?.name
            ? { practitioner: run.practitioners[n.practitionerSourceId]?.name }
            : {}),
        })),
        index: bundle.members !== undefined,
        sourceSystem: run.manifest?.system ?? 'Gensolve Practice Manager',
      });
    } catch (err) {
      // One patient's odd text must not stop the rest: their notes fail, with the reason.
      for (const note of bundle.notes) {
        const n = bySource.get(note.sourceId);
        const index = at.get(note.sourceId);
        if (!n || index === undefined) continue;
        out.outcomes[index] = { ...n.outcome, outcome: 'failed', reason: 'PDF_RENDER_FAILED' };
        out.planned--;
        out.enqueued--;
        out.failed++;
        out.problems.push({
          entity: 'clinicalNotes',
          sourceId: note.sourceId,
          file: n.outcome.file,
          row: n.outcome.row,
          field: '',
          code: 'PDF_RENDER_FAILED',
          clientSourceId: bundle.patientSourceId,
          severity: 'error',
          message: `the notes PDF could not be made: ${(err as Error).message}`,
        });
      }
      continue;
    }
    const key = keys.runFile(run.runId, `notes/${bundle.filename}`);
    await deps.blobs.putBytes(run.bucket, key, pdf, 'application/pdf');
    out.commands.push(
      commandFor(run, {
        entity,
        sourceId: bundle.sourceId,
        file: first.outcome.file,
        row: first.outcome.row,
        hash: createHash('sha256').update(pdf).digest('hex').slice(0, 32),
        keyIndex: lane(bundle.patientSourceId, run.clinikoUsers.length),
        payload: {
          kind: 'attachment',
          patientId: first.patientId,
          path: bundle.filename,
          runFile: key,
          size: pdf.length,
          filename: bundle.filename,
          contentType: 'application/pdf',
          description: bundle.description,
          ...(bundle.members ? { members: bundle.members } : {}),
        },
      }),
    );
    if (deps.queue && out.commands.length >= SEND_EVERY) await deps.queue.send(out.commands.splice(0));
  }
  return out;
}
