import { describe, expect, it } from '@jest/globals';
import type { ClinicalNote } from '../../src/core/canonical.js';
import { bundleNotes, noteGlyphProblems } from '../../src/documents/note-bundles.js';
import { type NoteForPdf, printable, renderNotesPdf } from '../../src/documents/notes-pdf.js';
import { pdfPages, squeeze } from '../support/pdf-text.js';

const WORLD = [
  'Tēnā koe, Āporo Ōtautahi',
  'Zoë Renée Müller, crème brûlée',
  'Привет, как дела',
  'Ωμέγα και άλφα',
  '王小明 左膝疼痛',
  'ひらがな カタカナ',
  '한국어 환자',
  'नमस्ते',
  'สวัสดี',
  'ROM 0–110°, “quoted”, ‘single’, €20',
];

function note(i: number, extra: Partial<NoteForPdf> = {}): NoteForPdf {
  return {
    sourceId: `N${i}`,
    date: `2023-${String((i % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
    practitioner: 'Dr Jane Smith',
    noteType: i % 2 ? 'Treatment' : 'Initial Assessment',
    assessmentType: 'SOAP',
    sections: [
      { title: 'Subjective', text: `Visit ${i}: ${WORLD[i % WORLD.length]}.\nSecond line of visit ${i}.` },
      { title: 'Plan', text: `Plan ${i}: ice, rest; "no running" for ${i} weeks.` },
    ],
    ...extra,
  };
}

describe('clinical notes as a PDF', () => {
  it('holds every character of every note, whatever its script, on a cover, index and note pages', async () => {
    const notes = WORLD.map((_, i) => note(i));
    const pdf = await renderNotesPdf({
      clinic: 'Harbour Physio',
      patient: { sourceId: 'C1', name: 'Tāne Müller', dateOfBirth: '1980-02-03' },
      notes,
      index: true,
      sourceSystem: 'Gensolve Practice Manager',
    });
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = squeeze((await pdfPages(pdf)).join('\n'));
    for (const n of notes) for (const s of n.sections) expect(text).toContain(squeeze(s.text));
    expect(text).toContain(squeeze('Tāne Müller'));
    expect(text).toContain(squeeze('Date of birth: 3 Feb 1980'));
    expect(text).toContain('HarbourPhysio');
    // fonts are embedded; no standard font that a viewer would substitute
    const raw = pdf.toString('latin1');
    expect(raw).toContain('/FontFile2');
    expect(raw).not.toMatch(/\/BaseFont \/(Helvetica|Times|Courier)/);
  });

  it('lists each note in the index with the page its heading is on, in date order', async () => {
    const notes = Array.from({ length: 50 }, (_, i) => note(i));
    // a long note pushes later ones onto later pages
    const long = note(3, { sections: [{ title: 'Body', text: 'Long history. '.repeat(900) }] });
    notes[3] = long;
    const pdf = await renderNotesPdf({ patient: { sourceId: 'C9' }, notes, index: true });
    const pages = await pdfPages(pdf);
    const index = pages.slice(0, 2).join('\n');
    const sorted = [...notes].sort((a, b) =>
      a.date === b.date
        ? a.sourceId.localeCompare(b.sourceId, 'en', { numeric: true })
        : a.date < b.date
          ? -1
          : 1,
    );
    let previous = 0;
    for (const n of sorted) {
      const [y, m, d] = n.date.split('-').map(Number);
      const shown = `${d} ${['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'][(m ?? 1) - 1]} ${y}`;
      const row = new RegExp(`${shown}\\s*${n.noteType}\\s*Dr Jane Smith\\s*(\\d+)`);
      const match = row.exec(index.slice(index.indexOf(shown)));
      expect({ note: n.sourceId, inIndex: match !== null }).toEqual({ note: n.sourceId, inIndex: true });
      const page = Number(match?.[1]);
      expect(page).toBeGreaterThanOrEqual(previous);
      previous = page;
      expect({ page, text: pages[page - 1] }).toEqual({
        page,
        text: expect.stringContaining(`Note ${n.sourceId}`),
      });
    }
    // the long note flowed over several pages, nothing cut (running header and footer aside)
    const body = pages.map((p) => p.replace(/Client C9|Page \d+ of \d+/g, '')).join('');
    expect(squeeze(body).includes(squeeze('Long history. '.repeat(900)))).toBe(true);
    expect(pages.length).toBeGreaterThan(8);
    expect(pages.at(-1)).toContain(`Page ${pages.length} of ${pages.length}`);
  });

  it('makes the same bytes from the same notes, in whatever order they come', async () => {
    const notes = Array.from({ length: 12 }, (_, i) => note(i));
    const input = { patient: { sourceId: 'C2', name: 'Jo Bloggs' }, index: true };
    const a = await renderNotesPdf({ ...input, notes });
    const b = await renderNotesPdf({ ...input, notes: [...notes].reverse() });
    expect(a.equals(b)).toBe(true);
    const c = await renderNotesPdf({ ...input, notes: notes.slice(1) });
    expect(a.equals(c)).toBe(false);
  });

  it('keeps line breaks and tabs as layout, and drops control characters no font can draw', () => {
    expect(printable('a\r\nb\rc\td\u0007e\u2028f')).toBe('a\nb\nc    de\nf');
  });
});

describe('note bundles', () => {
  const clinical = (id: string, patient: string, date: string): ClinicalNote => ({
    sourceId: id,
    patientSourceId: patient,
    date,
    noteType: 'Treatment',
    sections: [{ title: 'Body', text: `note ${id}` }],
  });
  const notes = [
    clinical('3', 'C1', '2024-02-01'),
    clinical('1', 'C1', '2023-01-05'),
    clinical('2', 'C2', '2023-03-01'),
    clinical('10', 'C1', '2023-01-05'),
  ];

  it('bundle a patient’s notes in date order, named by patient and notes, within 255 characters', () => {
    const bundles = bundleNotes(notes, 'pdf-per-patient');
    expect(bundles.map((b) => b.patientSourceId)).toEqual(['C1', 'C2']);
    const c1 = bundles[0];
    expect(c1?.members).toEqual(['1', '10', '3']);
    expect(c1?.description).toMatch(
      /^Clinical notes, 5 Jan 2023 to 1 Feb 2024 \(3 notes\) \[Notes C1 [0-9a-f]{8}\]$/,
    );
    // a later export adding a note makes a different bundle, never the same id with other content
    const later = bundleNotes([...notes, clinical('11', 'C1', '2024-05-01')], 'pdf-per-patient');
    expect(later[0]?.sourceId).not.toBe(c1?.sourceId);
    const huge = bundleNotes([clinical('1', 'X'.repeat(400), '2023-01-01')], 'pdf-per-patient');
    expect([...(huge[0]?.description ?? '')].length).toBeLessThanOrEqual(255);
  });

  it('make one PDF per note when the clinic asks for it, keyed by the note id', () => {
    const bundles = bundleNotes(notes, 'pdf-per-note');
    expect(bundles.map((b) => b.sourceId)).toEqual(['1', '10', '2', '3']);
    expect(bundles.every((b) => b.members === undefined && b.notes.length === 1)).toBe(true);
    expect(bundles[0]?.description).toBe('2023-01-05 Treatment [Note 1]');
  });

  it('warn, naming the field and the code points, when no embedded font has a character', () => {
    const ethiopic = clinical('7', 'C1', '2023-01-01');
    const problems = noteGlyphProblems(
      { ...ethiopic, sections: [{ title: 'Plan', text: 'ሰላም and 王' }] },
      'ClinicalNotes.csv',
      8,
    );
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ field: 'Plan', row: 8, code: 'GLYPH_MISSING', severity: 'warning' });
    expect(problems[0]?.message).toContain('U+1230');
    expect(noteGlyphProblems(notes[0] as ClinicalNote, 'ClinicalNotes.csv', 2)).toEqual([]);
  });
});
