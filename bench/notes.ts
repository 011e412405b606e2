import type { ClinicalNote } from '../src/core/canonical.js';
import { bundleNotes } from '../src/documents/note-bundles.js';
import { renderNotesPdf } from '../src/documents/notes-pdf.js';

/**
 * Renders clinical notes to PDFs as the mappers do (one bundle per patient) and prints notes
 * rendered per second (target ≥ 200) and the process's peak RSS. Notes are of a typical length
 * (three to five sections, a few hundred characters each), a tenth with non-Latin text.
 */
export async function notesBench(): Promise<Record<string, number>> {
  const patients = Number(process.env.BENCH_NOTE_PATIENTS ?? 400);
  const perPatient = Number(process.env.BENCH_NOTES_PER_PATIENT ?? 10);
  const notes: ClinicalNote[] = [];
  const sentence =
    'Pain on resisted abduction, reduced since last visit; soft tissue release to upper trapezius, taping, home exercises reviewed. ';
  const foreign = [
    'Tēnā koe, kei te pēhea koe? ',
    '患者主诉左膝疼痛。',
    '통증이 줄었습니다. ',
    'Боль уменьшилась. ',
  ];
  for (let p = 0; p < patients; p++) {
    for (let n = 0; n < perPatient; n++) {
      const i = p * perPatient + n;
      const extra = i % 10 === 0 ? (foreign[i % foreign.length] ?? '') : '';
      notes.push({
        sourceId: String(i + 1),
        patientSourceId: `C${p + 1}`,
        date: `20${String(15 + (n % 9)).padStart(2, '0')}-${String((n % 12) + 1).padStart(2, '0')}-${String((i % 28) + 1).padStart(2, '0')}`,
        noteType: n === 0 ? 'Initial Assessment' : 'Treatment',
        assessmentType: 'SOAP',
        sections: ['Subjective', 'Objective', 'Assessment', 'Plan', 'Body']
          .slice(0, 3 + (i % 3))
          .map((title, s) => ({
            title,
            text: `${extra}${sentence.repeat(1 + ((i + s) % 4))}`.trim(),
          })),
      });
    }
  }
  const bundles = bundleNotes(notes, 'pdf-per-patient');
  // Fonts are parsed once per process (a warm mapper): the first bundle pays for that.
  await renderNotesPdf({ patient: { sourceId: 'warm-up' }, notes: bundles[0]?.notes ?? [], index: true });
  const started = performance.now();
  let bytes = 0;
  for (const b of bundles) {
    const pdf = await renderNotesPdf({
      clinic: 'Harbour Physio',
      patient: {
        sourceId: b.patientSourceId,
        name: `Patient ${b.patientSourceId}`,
        dateOfBirth: '1980-01-01',
      },
      notes: b.notes,
      index: true,
      sourceSystem: 'Gensolve Practice Manager',
    });
    bytes += pdf.length;
  }
  const seconds = (performance.now() - started) / 1000;
  const notesPerSecond = notes.length / seconds;
  const peakRssMb = process.resourceUsage().maxRSS / 1024;
  console.log(
    `${notes.length.toLocaleString('en-US')} notes in ${bundles.length} PDFs (${(bytes / 1024 / 1024).toFixed(1)} MB) in ${seconds.toFixed(2)} s`,
  );
  console.log(
    `notes rendered per second ${Math.round(notesPerSecond)} (target ≥ 200); peak RSS ${peakRssMb.toFixed(0)} MB`,
  );
  return { notes: notes.length, pdfs: bundles.length, seconds, notesPerSecond, peakRssMb };
}
