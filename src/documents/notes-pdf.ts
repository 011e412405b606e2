import PDFDocument from 'pdfkit';
import { FONT_PACKAGES, fontObject, fontRuns, REGULAR_CHAIN } from './fonts.js';

/**
 * Clinical notes as a PDF for a patient's file in Cliniko. A bundle holds one patient's notes in
 * date order behind a cover with an index (one upload per patient, the fewest requests); a single
 * note gets the same layout without the index. The same input always gives the same bytes, so a
 * re-run uploads nothing new and a re-found attachment is the one we would have written.
 */
export interface NoteForPdf {
  readonly sourceId: string;
  /** yyyy-mm-dd */
  readonly date: string;
  readonly practitioner?: string;
  readonly noteType?: string;
  readonly assessmentType?: string;
  readonly appointmentSourceId?: string;
  /** In column order; empty sections were left out when the row was read. */
  readonly sections: readonly { readonly title: string; readonly text: string }[];
}

export interface NotesPdfInput {
  readonly clinic?: string;
  readonly patient: { readonly sourceId: string; readonly name?: string; readonly dateOfBirth?: string };
  readonly notes: readonly NoteForPdf[];
  /** A bundle: a cover page with the index of its notes. */
  readonly index: boolean;
  /** Where the notes came from, shown on the cover (e.g. "Gensolve Practice Manager"). */
  readonly sourceSystem?: string;
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** "10 May 2024": a written-out month cannot be read with day and month swapped. */
export function displayDate(isoDate: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(isoDate);
  if (!m) return isoDate;
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1] ?? m[2]} ${m[1]}`;
}

const collator = new Intl.Collator('en', { numeric: true });
/** Date order; notes of one day by source id (numeric-aware), so the order never depends on the input's. */
export function sortNotes<T extends { date: string; time?: string; sourceId: string }>(
  notes: readonly T[],
): T[] {
  const at = (n: T) => `${n.date} ${n.time ?? ''}`;
  return [...notes].sort((a, b) =>
    at(a) === at(b) ? collator.compare(a.sourceId, b.sourceId) : at(a) < at(b) ? -1 : 1,
  );
}

/** Line breaks made uniform, tabs as spaces, control characters (which no font draws) dropped. */
export function printable(text: string): string {
  return text
    .replace(/\r\n?|[\u2028\u2029]/g, '\n')
    .replace(/\t/g, '    ')
    .replace(/[^\P{Cc}\n]/gu, '');
}

const PAGE = { width: 595.28, height: 841.89 };
const MARGIN = { top: 64, bottom: 56, left: 56, right: 56 };
const CONTENT_WIDTH = PAGE.width - MARGIN.left - MARGIN.right;
const INDEX_ROW = 15;
const COVER_HEAD = 150;
const INDEX_HEAD = 22;
const rowsOnPage = (first: boolean) =>
  Math.floor((PAGE.height - MARGIN.top - MARGIN.bottom - INDEX_HEAD - (first ? COVER_HEAD : 0)) / INDEX_ROW);
const GREY = '#555555';

type Doc = PDFKit.PDFDocument;

function registerFonts(doc: Doc) {
  // pdfkit accepts a parsed fontkit font where its types say bytes.
  const font = (spec: string) => fontObject(spec) as unknown as Buffer;
  REGULAR_CHAIN.forEach((spec, i) => {
    doc.registerFont(`r${i}`, font(spec));
  });
  doc.registerFont('b0', font(FONT_PACKAGES.bold));
}

/** Writes text in as many fonts as its characters need, flowing onto new pages as it goes. */
function write(
  doc: Doc,
  text: string,
  opts: { bold?: boolean; size: number; x?: number } & PDFKit.Mixins.TextOptions,
) {
  const { bold, size, x, ...options } = opts;
  if (x !== undefined) doc.x = x;
  const runs = fontRuns(text).filter((r) => r.text.length > 0);
  if (!runs.length) return;
  runs.forEach((run, i) => {
    doc.font(bold && run.font === 0 ? 'b0' : `r${run.font}`).fontSize(size);
    doc.text(run.text, { ...options, continued: i < runs.length - 1 });
  });
}

/** Cuts a label to fit an index column; wide (CJK) characters count double. */
function clip(text: string, units: number): string {
  let used = 0;
  let out = '';
  for (const ch of text.replace(/\s+/g, ' ')) {
    const w = /[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/u.test(ch) ? 2 : 1;
    if (used + w > units) return `${out.trimEnd()}…`;
    used += w;
    out += ch;
  }
  return out;
}

function titleOf(note: NoteForPdf): string {
  return note.noteType ?? note.assessmentType ?? 'Clinical note';
}

export async function renderNotesPdf(input: NotesPdfInput): Promise<Buffer> {
  const notes = sortNotes(input.notes);
  const last = notes.at(-1)?.date ?? '1970-01-01';
  const patientName = input.patient.name ?? `Client ${input.patient.sourceId}`;
  const doc = new PDFDocument({
    size: 'A4',
    margins: MARGIN,
    bufferPages: true,
    autoFirstPage: false,
    // No default font: pdfkit's default would load Helvetica's metrics from disk.
    font: null as unknown as string,
    displayTitle: true,
    lang: 'en',
    info: {
      Title: `Clinical notes: ${patientName}`,
      Producer: 'cliniko-migrate',
      Creator: 'cliniko-migrate',
      // From the data, never the clock: the same notes make the same bytes.
      CreationDate: new Date(`${last}T00:00:00Z`),
    },
  });
  registerFonts(doc);
  doc.font('r0');
  const chunks: Buffer[] = [];
  doc.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<void>((resolve, reject) => {
    doc.on('end', resolve);
    doc.on('error', reject);
  });

  // The index needs page numbers that exist only once the notes are laid out: its pages are
  // reserved first and filled in at the end.
  let indexPages = 0;
  if (input.index) {
    const first = rowsOnPage(true);
    indexPages = 1 + Math.ceil(Math.max(0, notes.length - first) / rowsOnPage(false));
    for (let i = 0; i < indexPages; i++) doc.addPage();
  }
  const startPage: number[] = [];
  doc.addPage();
  if (!input.index) coverLines(doc, input, patientName, notes);
  notes.forEach((note, n) => {
    if (n > 0) {
      if (doc.y > PAGE.height - MARGIN.bottom - 140) doc.addPage();
      else {
        doc.moveDown(0.8);
        doc
          .moveTo(MARGIN.left, doc.y)
          .lineTo(PAGE.width - MARGIN.right, doc.y)
          .lineWidth(0.5)
          .strokeColor('#999999')
          .stroke();
        doc.moveDown(0.8);
      }
    }
    startPage.push(doc.bufferedPageRange().start + doc.bufferedPageRange().count);
    doc.outline.addItem(`${displayDate(note.date)} – ${titleOf(note)}`);
    doc.fillColor('black');
    write(doc, `${displayDate(note.date)} · ${titleOf(note)}`, { bold: true, size: 13, x: MARGIN.left });
    const facts = [
      note.practitioner ? `Practitioner: ${note.practitioner}` : undefined,
      note.assessmentType && note.assessmentType !== note.noteType
        ? `Assessment: ${note.assessmentType}`
        : undefined,
      note.appointmentSourceId ? `Appointment ${note.appointmentSourceId}` : undefined,
      `Note ${note.sourceId}`,
    ].filter((f): f is string => f !== undefined);
    doc.fillColor(GREY);
    write(doc, facts.join(' · '), { size: 9, width: CONTENT_WIDTH });
    doc.fillColor('black');
    if (!note.sections.length) {
      doc.moveDown(0.5);
      write(doc, '(no text)', { size: 10, width: CONTENT_WIDTH });
    }
    for (const section of note.sections) {
      doc.moveDown(0.6);
      // A heading never ends a page without at least two lines of its text under it.
      if (doc.y > PAGE.height - MARGIN.bottom - 48) doc.addPage();
      write(doc, section.title, { bold: true, size: 10.5, width: CONTENT_WIDTH });
      doc.moveDown(0.15);
      write(doc, printable(section.text), { size: 10, width: CONTENT_WIDTH, lineGap: 1.5 });
    }
  });

  const range = doc.bufferedPageRange();
  if (input.index) {
    for (let p = 0; p < indexPages; p++) {
      doc.switchToPage(p);
      doc.x = MARGIN.left;
      doc.y = MARGIN.top;
      if (p === 0) coverLines(doc, input, patientName, notes);
      indexHeader(doc);
      const from = p === 0 ? 0 : rowsOnPage(true) + (p - 1) * rowsOnPage(false);
      const to = Math.min(notes.length, from + rowsOnPage(p === 0));
      for (let n = from; n < to; n++) {
        const note = notes[n];
        if (note) indexRow(doc, note, startPage[n] ?? 0);
      }
    }
  }
  for (let p = 0; p < range.count; p++) {
    doc.switchToPage(range.start + p);
    runningLines(doc, input, patientName, p + 1, range.count);
  }
  doc.flushPages();
  doc.end();
  await done;
  return Buffer.concat(chunks);
}

function coverLines(doc: Doc, input: NotesPdfInput, patientName: string, notes: readonly NoteForPdf[]) {
  const top = doc.y;
  if (input.clinic) {
    doc.fillColor(GREY);
    write(doc, input.clinic, { size: 10, x: MARGIN.left, width: CONTENT_WIDTH });
    doc.fillColor('black');
  }
  write(doc, input.index ? 'Clinical notes' : 'Clinical note', {
    bold: true,
    size: 18,
    x: MARGIN.left,
    width: CONTENT_WIDTH,
  });
  doc.moveDown(0.3);
  write(doc, patientName, { bold: true, size: 13, width: CONTENT_WIDTH });
  const first = notes[0]?.date;
  const last = notes.at(-1)?.date;
  const lines = [
    input.patient.dateOfBirth ? `Date of birth: ${displayDate(input.patient.dateOfBirth)}` : undefined,
    `Client ${input.patient.sourceId}`,
    input.index && first && last
      ? `${notes.length} note${notes.length === 1 ? '' : 's'}, ${displayDate(first)} to ${displayDate(last)}`
      : undefined,
    `Transferred from ${input.sourceSystem ?? 'the previous system'}`,
  ].filter((l): l is string => l !== undefined);
  for (const line of lines) write(doc, line, { size: 10, width: CONTENT_WIDTH });
  if (input.index) doc.y = Math.max(doc.y + 12, top + COVER_HEAD);
  else doc.moveDown(1.2);
}

const COLUMNS = [
  { at: 0, width: 80, units: 16 },
  { at: 84, width: 190, units: 38 },
  { at: 278, width: 170, units: 34 },
  { at: 448, width: CONTENT_WIDTH - 448, units: 8 },
];

function indexHeader(doc: Doc) {
  const y = doc.y;
  ['Date', 'Note', 'Practitioner', 'Page'].forEach((label, i) => {
    const col = COLUMNS[i];
    if (!col) return;
    doc
      .font('b0')
      .fontSize(9)
      .text(label, MARGIN.left + col.at, y, { width: col.width, lineBreak: false });
  });
  doc
    .moveTo(MARGIN.left, y + 13)
    .lineTo(PAGE.width - MARGIN.right, y + 13)
    .lineWidth(0.5)
    .strokeColor('#999999')
    .stroke();
  doc.y = y + INDEX_HEAD;
}

function indexRow(doc: Doc, note: NoteForPdf, page: number) {
  const y = doc.y;
  const cells = [displayDate(note.date), titleOf(note), note.practitioner ?? '', String(page)];
  cells.forEach((cell, i) => {
    const col = COLUMNS[i];
    if (!col || !cell) return;
    const runs = fontRuns(clip(cell, col.units));
    runs.forEach((run, r) => {
      doc.font(`r${run.font}`).fontSize(9);
      const opts = { width: col.width, lineBreak: false, continued: r < runs.length - 1 };
      if (r === 0) doc.text(run.text, MARGIN.left + col.at, y, opts);
      else doc.text(run.text, opts);
    });
  });
  doc.x = MARGIN.left;
  doc.y = y + INDEX_ROW;
}

function runningLines(doc: Doc, input: NotesPdfInput, patientName: string, page: number, pages: number) {
  // Header and footer sit in the margins, where pdfkit would otherwise start a new page.
  const margins = doc.page.margins;
  doc.page.margins = { ...margins, top: 0, bottom: 0 };
  const head = `${input.patient.name ? `${patientName} · ` : ''}Client ${input.patient.sourceId}${
    input.patient.dateOfBirth ? ` · Born ${displayDate(input.patient.dateOfBirth)}` : ''
  }`;
  doc.fillColor(GREY);
  const runs = fontRuns(clip(head, 90));
  runs.forEach((run, r) => {
    doc.font(`r${run.font}`).fontSize(8);
    const opts = { width: CONTENT_WIDTH, lineBreak: false, continued: r < runs.length - 1 };
    if (r === 0) doc.text(run.text, MARGIN.left, 30, opts);
    else doc.text(run.text, opts);
  });
  doc
    .font('r0')
    .fontSize(8)
    .text(`Page ${page} of ${pages}`, MARGIN.left, PAGE.height - 36, {
      width: CONTENT_WIDTH,
      align: 'right',
      lineBreak: false,
    });
  doc.fillColor('black');
  doc.page.margins = margins;
}
