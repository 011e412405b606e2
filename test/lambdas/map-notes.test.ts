import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { mapBatch } from '../../lambdas/map-batch/map-batch.js';
import { SEND_EVERY } from '../../lambdas/map-batch/note-pdfs.js';
import type { RowBatch } from '../../src/core/row-batch.js';
import { renderNotesPdf } from '../../src/documents/notes-pdf.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import type { CommandQueue, WriteCommand } from '../../src/ports/command-queue.js';
import type { IdMapEntry } from '../../src/ports/id-map.js';
import type { BatchCounts, RecordOutcome } from '../../src/ports/outcomes.js';
import type { RunInfo } from '../../src/ports/runs.js';
import type { StatusStore } from '../../src/ports/status-store.js';
import type { WriteResult } from '../../src/ports/write-ledger.js';
import { loadProfile } from '../../src/source/profile.js';
import { BASE, csv, writeZip } from '../support/exports.js';
import { memoryBlobs } from '../support/memory-blobs.js';
import { pdfPages, squeeze } from '../support/pdf-text.js';
import { statusStoreDouble } from '../support/port-doubles.js';
import { runInfo } from '../support/run-info.js';

/** A mapper of notes in a live run, on in-memory stores: bundles, known notes, and a PDF that fails. */
class Memory {
  readonly objects = new Map<string, unknown>();
  readonly outcomes: RecordOutcome[] = [];
  readonly writes: WriteResult[] = [];
  readonly commands: WriteCommand[] = [];
  counts?: BatchCounts;
  constructor(
    readonly run: RunInfo,
    readonly idMap: Map<string, IdMapEntry>,
  ) {}
  blobs: BlobStore = memoryBlobs(this.objects);
  store: StatusStore = {
    ...statusStoreDouble(),
    getRun: async () => this.run,
    getOutcomes: async (_r, entity, ids) =>
      new Map(
        ids.map((id) => [
          id,
          {
            entity,
            sourceId: id,
            outcome: 'planned',
            file: 'Clients.csv',
            row: 2,
          },
        ]),
      ),
    getIdMap: async (_c, entity, ids) =>
      new Map(
        ids.flatMap((id) => {
          if (entity === 'patients')
            return [[id, { clinikoId: `9${id.slice(1)}`, hash: '', runId: 'r0', at: '', steps: [] }]];
          const e = this.idMap.get(id);
          return e ? [[id, e]] : [];
        }),
      ),
    putOutcomes: async (_r, o) => void this.outcomes.push(...o),
    recordWrite: async (_r, w) => void this.writes.push(w),
    putBatchCounts: async (_r, _k, c) => {
      this.counts = c;
    },
  };
  queue: CommandQueue = {
    send: async (c: readonly WriteCommand[]) => void this.commands.push(...c),
    outstanding: async () => 0,
  };
}

const run: RunInfo = runInfo({
  runId: 'live-1',
  practitioners: { P1: { status: 'matched', clinikoId: '5', name: 'Dr Hana Ruru' } },
});

const note = (row: number, id: string, client: string, date: string) => ({
  row,
  values: { NoteId: id, ClientId: client, NoteDate: date, PractitionerId: 'P1', NoteType: 'Treatment' },
  extra: [{ header: 'Body', value: `Text of ${id}` }],
});

const batch: RowBatch = {
  table: 'clinicalNotes',
  file: 'ClinicalNotes.csv',
  rows: [
    note(2, 'N1', 'C1', '01/03/2024'),
    note(3, 'N2', 'C1', '02/03/2024'),
    note(4, 'N3', 'C2', '03/03/2024'),
    note(5, 'N4', 'C3', '04/03/2024'),
  ],
};

/**
 * The run's export, as the bucket holds it: clients C0..C59, each named for their id (a preferred
 * name for C1, so the cover shows the name as Cliniko does), born on a day of 1980.
 */
const exportZip = (async () => {
  const rows = Array.from(
    { length: 60 },
    (_, i) =>
      `C${i},Ana${i},${i === 1 ? 'Annie' : ''},Tane${i},${String((i % 28) + 1).padStart(2, '0')}/03/1980`,
  );
  return readFile(
    await writeZip({
      ...BASE,
      'Clients.csv': csv('ClientId,FirstName,PreferredName,LastName,DateOfBirth', ...rows),
    }),
  );
})();

/** Maps `rows` (default: the batch above) in a live run, PDFs made by `render`. */
async function mapOn(m: Memory, render: typeof renderNotesPdf, rows: RowBatch = batch) {
  m.objects.set('batch-1', rows);
  m.objects.set(m.run.exportKey, await exportZip);
  await mapBatch(
    { runId: 'live-1', batchKey: 'batch-1' },
    { blobs: m.blobs, store: m.store, queue: m.queue, profile: loadProfile(), renderPdf: render },
  );
  return m;
}

function mapWith(idMap: Map<string, IdMapEntry>, failFor?: string) {
  return mapOn(new Memory(run, idMap), (input) =>
    input.patient.sourceId === failFor
      ? Promise.reject(new Error('font table broken'))
      : renderNotesPdf(input),
  );
}

describe("a live mapper's notes", () => {
  it('make one PDF command per patient, notes already written counted present, a failed PDF failing only its notes', async () => {
    const known = new Map<string, IdMapEntry>([
      ['N3', { clinikoId: '77', hash: 'h', runId: 'earlier', at: '', steps: [] }],
    ]);
    const m = await mapWith(known, 'C3');
    // C1's two notes in one PDF; C2's note is already in Cliniko; C3's PDF could not be made
    expect(m.commands).toHaveLength(1);
    const payload = m.commands[0]?.payload;
    expect(payload).toMatchObject({
      kind: 'attachment',
      patientId: '91',
      members: ['N1', 'N2'],
      contentType: 'application/pdf',
    });
    if (payload?.kind !== 'attachment') throw new Error('not an attachment');
    expect(m.objects.get(payload.runFile ?? '')).toBeInstanceOf(Buffer);
    expect(m.writes).toEqual([
      { entity: 'clinicalNotes', sourceId: 'N3', outcome: 'alreadyPresent', clinikoId: '77' },
    ]);
    // one outcome per row, and counts that add up
    expect(m.outcomes.map((o) => `${o.sourceId}:${o.outcome}`).sort()).toEqual([
      'N1:planned',
      'N2:planned',
      'N3:planned',
      'N4:failed',
    ]);
    expect(m.counts).toMatchObject({ source: 4, planned: 0, enqueued: 3, failed: 1 });
  });

  it("carry the patient's name and birth date from the export on the PDF's cover, and store neither", async () => {
    const m = await mapWith(new Map());
    const c1 = m.commands.find((c) => c.payload.kind === 'attachment' && c.payload.patientId === '91');
    const key = c1?.payload.kind === 'attachment' ? c1.payload.runFile : undefined;
    const pdf = m.objects.get(key ?? '');
    if (!Buffer.isBuffer(pdf)) throw new Error('no PDF for C1');
    const text = squeeze((await pdfPages(pdf)).join('\n'));
    expect(text).toContain(squeeze('Ana1 (Annie) Tane1'));
    expect(text).toContain(squeeze('Date of birth: 2 Mar 1980'));
    expect(text).toContain(squeeze('Client C1'));
    // what the mapper stored of the rows (outcomes and ledger) names no patient
    expect(JSON.stringify([m.outcomes, m.writes])).not.toMatch(/Ana|Tane|1980/);
  });

  it('go to the writers as they are made, not after the last PDF of the batch', async () => {
    // Arrange: one note each for more patients than SEND_EVERY twice over
    const patients = 2 * SEND_EVERY + 5;
    const m = new Memory(run, new Map());
    let rendered = 0;
    const rendersAtSend: number[] = [];
    const send = m.queue.send;
    m.queue.send = async (c) => {
      rendersAtSend.push(rendered);
      await send(c);
    };
    // Act
    await mapOn(
      m,
      (input) => {
        rendered++;
        return renderNotesPdf(input);
      },
      {
        table: 'clinicalNotes',
        file: 'ClinicalNotes.csv',
        rows: Array.from({ length: patients }, (_, i) => note(i + 2, `N${i}`, `C${i}`, '01/03/2024')),
      },
    );
    // Assert: the first PDFs were sent while the rest were still to be made, every PDF once
    expect(rendersAtSend[0]).toBe(SEND_EVERY);
    expect(rendersAtSend.length).toBe(3);
    expect(m.commands).toHaveLength(patients);
    expect(new Set(m.commands.map((c) => c.sourceId)).size).toBe(patients);
    expect(m.counts).toMatchObject({ enqueued: patients, failed: 0 });
  });
});
