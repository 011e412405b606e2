import { readFile } from 'node:fs/promises';
import { describe, expect, it } from '@jest/globals';
import { mapBatch } from '../../lambdas/map-batch/map-batch.js';
import { parseConfig } from '../../src/config/migration-config.js';
import type { Problem } from '../../src/core/problem.js';
import type { RowBatch } from '../../src/core/row-batch.js';
import { answerText } from '../../src/mapping/treatment-notes.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import type { CommandQueue, WriteCommand } from '../../src/ports/command-queue.js';
import type { IdMapEntry } from '../../src/ports/id-map.js';
import type { BatchCounts, RecordOutcome } from '../../src/ports/outcomes.js';
import type { RunInfo } from '../../src/ports/runs.js';
import type { StatusStore } from '../../src/ports/status-store.js';
import { loadProfile } from '../../src/source/profile.js';
import { BASE, writeZip } from '../support/exports.js';
import { memoryBlobs } from '../support/memory-blobs.js';
import { statusStoreDouble } from '../support/port-doubles.js';
import { runInfo } from '../support/run-info.js';

/**
 * A live mapper on in-memory stores: native notes pinned to their author's key and the three
 * `notesWithoutAuthorKey` choices; appointments' arrivals under each `markArrivals` setting.
 */
const entry = (clinikoId: string): IdMapEntry => ({ clinikoId, hash: '', runId: 'r0', at: '', steps: [] });

class Memory {
  readonly objects = new Map<string, unknown>();
  readonly outcomes: RecordOutcome[] = [];
  readonly commands: WriteCommand[] = [];
  readonly counts = new Map<string, BatchCounts>();
  constructor(readonly run: RunInfo) {}
  blobs: BlobStore = memoryBlobs(this.objects);
  store: StatusStore = {
    ...statusStoreDouble(),
    getRun: async () => this.run,
    getOutcomes: async (_r, entity, ids) =>
      new Map(ids.map((id) => [id, { entity, sourceId: id, outcome: 'planned', file: 'x.csv', row: 2 }])),
    getIdMap: async (_c, entity, ids) => {
      const known: Record<string, Record<string, IdMapEntry>> = {
        patients: { C1: entry('91'), C2: entry('92') },
        appointments: { A1: entry('501') },
        appointmentTypes: { T1: entry('301') },
        treatmentNoteTemplates: { SOAP: entry('401') },
      };
      return new Map(ids.flatMap((id) => (known[entity]?.[id] ? [[id, known[entity][id]]] : [])));
    },
    putOutcomes: async (_r, o) => void this.outcomes.push(...o),
    recordWrite: async () => undefined,
    putBatchCounts: async (_r, key, c) => void this.counts.set(key, c),
  };
  queue: CommandQueue = {
    send: async (c: readonly WriteCommand[]) => void this.commands.push(...c),
    outstanding: async () => 0,
  };
  problems(): Problem[] {
    return [...this.objects.entries()]
      .filter(([k]) => k.includes('/problems/'))
      .flatMap(([, v]) => v as Problem[]);
  }
}

const runWith = (config: unknown): RunInfo =>
  runInfo({
    runId: 'live-1',
    config: parseConfig(config),
    manifest: { exportedAt: '2024-06-30T09:00:00+12:00' },
    practitioners: {
      P1: { status: 'matched', clinikoId: '5', name: 'Hana Ruru' },
      P2: { status: 'matched', clinikoId: '6', name: 'Tom Vea' },
      P3: { status: 'matched', clinikoId: '7', name: 'Wiremu Former' },
    },
    defaultBusinessId: '8',
    // key 0: an administrator who is no practitioner; key 1: Hana; key 2: Tom
    clinikoUsers: ['1', '2', '3'],
    keyPractitioners: [null, '5', '6'],
  });

async function map(run: RunInfo, batch: RowBatch): Promise<Memory> {
  const m = new Memory(run);
  m.objects.set('batch-1', batch);
  // the export in the bucket: a notes PDF reads its patients' names from it
  m.objects.set(run.exportKey, await readFile(await writeZip(BASE)));
  await mapBatch(
    { runId: run.runId, batchKey: 'batch-1' },
    { blobs: m.blobs, store: m.store, queue: m.queue, profile: loadProfile() },
  );
  return m;
}

const notes: RowBatch = {
  table: 'clinicalNotes',
  file: 'ClinicalNotes.csv',
  rows: [
    {
      row: 2,
      values: {
        NoteId: 'N1',
        ClientId: 'C1',
        NoteDate: '01/03/2024',
        PractitionerId: 'P1',
        AppointmentId: 'A1',
        NoteType: 'Treatment',
        AssessmentType: 'SOAP',
      },
      extra: [{ header: 'Subjective', value: 'Knee <sore>\nbetter' }],
    },
    {
      row: 3,
      values: {
        NoteId: 'N2',
        ClientId: 'C2',
        NoteDate: '02/03/2024',
        PractitionerId: 'P2',
        NoteType: 'Treatment',
      },
      extra: [{ header: 'Body', value: 'Shoulder' }],
    },
    {
      row: 4,
      values: {
        NoteId: 'N3',
        ClientId: 'C1',
        NoteDate: '03/03/2024',
        PractitionerId: 'P3',
        NoteType: 'Treatment',
      },
      extra: [{ header: 'Body', value: 'Old note' }],
    },
  ],
};

describe('native notes in a live mapper', () => {
  it("pins each note to its author's key, on its appointment and template; without a key it goes into the PDF by default", async () => {
    const m = await map(runWith({ clinicalNotes: 'native' }), notes);
    const native = m.commands.filter((c) => c.payload.kind === 'treatmentNote');
    expect(native.map((c) => [c.sourceId, c.keyIndex, c.pinnedKey])).toEqual([
      ['N1', 1, true],
      ['N2', 2, true],
    ]);
    expect(native[0]?.payload).toMatchObject({
      kind: 'treatmentNote',
      body: {
        patient_id: '91',
        booking_id: '501',
        treatment_note_template_id: '401',
        draft: false,
        title: 'Treatment, 1 Mar 2024 [Note N1]',
      },
    });
    const body = native[0]?.payload.kind === 'treatmentNote' ? native[0].payload.body : undefined;
    const answer =
      (body?.content?.sections?.[0] as { questions: { answer: string }[] } | undefined)?.questions[0]
        ?.answer ?? '';
    expect(answer).toBe('Knee &lt;sore&gt;<br>better');
    expect(answerText(answer)).toBe('Knee <sore>\nbetter');
    const pdf = m.commands.filter((c) => c.payload.kind === 'attachment');
    expect(pdf).toHaveLength(1);
    expect(pdf[0]?.payload).toMatchObject({ patientId: '91', members: ['N3'] });
    expect(m.counts.get('batch-1')).toMatchObject({ source: 3, enqueued: 3, skipped: 0, failed: 0 });
  });

  it('"any-key" writes it natively with a practitioner\'s key and a "Written by" first line', async () => {
    const m = await map(runWith({ clinicalNotes: 'native', notesWithoutAuthorKey: 'any-key' }), notes);
    const n3 = m.commands.find((c) => c.sourceId === 'N3');
    expect(n3?.payload.kind).toBe('treatmentNote');
    expect([1, 2]).toContain(n3?.keyIndex);
    const body = n3?.payload.kind === 'treatmentNote' ? n3.payload.body : undefined;
    const answer =
      (body?.content?.sections?.[0] as { questions: { answer: string }[] } | undefined)?.questions[0]
        ?.answer ?? '';
    expect(answerText(answer)).toBe('Written by Wiremu Former on 3 Mar 2024\nOld note');
    expect(m.commands.filter((c) => c.payload.kind === 'attachment')).toHaveLength(0);
  });

  it('"skip" leaves it out and reports it', async () => {
    const m = await map(runWith({ clinicalNotes: 'native', notesWithoutAuthorKey: 'skip' }), notes);
    expect(m.commands.map((c) => c.sourceId)).toEqual(['N1', 'N2']);
    expect(m.outcomes.find((o) => o.sourceId === 'N3')?.outcome).toBe('skipped');
    expect(m.counts.get('batch-1')).toMatchObject({ source: 3, enqueued: 2, skipped: 1 });
    expect(m.problems().find((p) => p.sourceId === 'N3')).toMatchObject({
      code: 'NOTE_AUTHOR_HAS_NO_KEY',
      severity: 'info',
    });
  });

  it('the dry run names the notes whose author has no key, and writes nothing', async () => {
    const m = await map({ ...runWith({ clinicalNotes: 'native' }), mode: 'dry-run' }, notes);
    expect(m.commands).toEqual([]);
    expect(
      m
        .problems()
        .filter((p) => p.code === 'NOTE_AUTHOR_HAS_NO_KEY')
        .map((p) => p.sourceId),
    ).toEqual(['N3']);
  });

  it('"native+pdf" also keeps every note in a PDF archive, counted apart from the notes', async () => {
    const m = await map(runWith({ clinicalNotes: 'native+pdf' }), notes);
    const archive = m.commands.filter((c) => c.entity === 'notesArchive');
    expect(archive.flatMap((c) => (c.payload.kind === 'attachment' ? c.payload.members : [])).sort()).toEqual(
      ['N1', 'N2', 'N3'],
    );
    expect(m.counts.get('batch-1#archive')).toMatchObject({ entity: 'notesArchive', enqueued: 3 });
    expect(m.counts.get('batch-1')).toMatchObject({ entity: 'clinicalNotes', source: 3, enqueued: 3 });
  });
});

const appointments: RowBatch = {
  table: 'appointments',
  file: 'Appointments.csv',
  rows: [
    ['A1', '01/01/2023', 'Completed'],
    ['A2', '15/05/2024', 'Arrived'],
    ['A3', '15/08/2024', 'Booked'],
    ['A4', '10/01/2023', 'DNA'],
  ].map(([id, date, status], i) => ({
    row: i + 2,
    values: {
      AppointmentId: id ?? '',
      ClientId: 'C1',
      PractitionerId: 'P1',
      StartDate: date ?? '',
      StartTime: '09:00',
      AppointmentTypeId: 'T1',
      Status: status ?? '',
    },
    extra: [],
  })),
};

describe('markArrivals in a live mapper', () => {
  const arrivals = async (markArrivals: string) => {
    const m = await map(runWith({ markArrivals }), appointments);
    return Object.fromEntries(
      m.commands.map((c) => [c.sourceId, c.payload.kind === 'appointment' ? c.payload.arrived : 'x']),
    );
  };

  it('"none" marks no attended appointment, and keeps did-not-arrive', async () => {
    expect(await arrivals('none')).toEqual({ A1: undefined, A2: undefined, A3: undefined, A4: false });
  });

  it('"recent" (the default) marks those of the 90 days before the export and later', async () => {
    expect(await arrivals('recent')).toEqual({ A1: undefined, A2: true, A3: undefined, A4: false });
    expect(parseConfig({}).markArrivals).toBe('recent');
  });

  it('"all" marks every attended appointment', async () => {
    expect(await arrivals('all')).toEqual({ A1: true, A2: true, A3: undefined, A4: false });
  });
});
