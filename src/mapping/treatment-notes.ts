import type * as M from '../core/canonical.js';
import { displayDate } from '../documents/notes-pdf.js';

/**
 * Clinical notes as native Cliniko treatment notes (Cliniko's API documentation on treatment notes
 * and treatment note templates): one template per assessment type, whose sections are that type's
 * columns, and one finalised note per source note whose sections are paragraph answers. The note's
 * author is not a field: it is the practitioner of the key that creates it.
 */

const cut = (s: string, n: number) => ([...s].length > n ? `${[...s].slice(0, n - 1).join('')}…` : s);

/** The template a note is based on: its assessment type (SOAP, SOTAP, Rehab…), re-found by this name. */
export function templateName(note: Pick<M.ClinicalNote, 'assessmentType'>): string {
  return cut(note.assessmentType?.trim() || 'Clinical note', 255);
}

/** A section holding one paragraph question of the same name (a column of the export). */
function section(name: string, answer?: string) {
  const title = cut(name, 255);
  return {
    name: title,
    questions: [{ name: title, type: 'paragraph' as const, ...(answer !== undefined ? { answer } : {}) }],
  };
}

/** `POST /treatment_note_templates` body: a section per column, in column order. */
export function templateBody(
  name: string,
  columns: readonly string[],
): { name: string; content: { sections: ReturnType<typeof section>[] } } {
  return { name, content: { sections: columns.map((c) => section(c)) } };
}

/**
 * A paragraph answer: `&`, `<` and `>` escaped (a literal `<`/`>` must be sent as `&lt;`/`&gt;`,
 * or Cliniko strips it as markup) and line breaks as `<br>` (Cliniko strips `\n`, `\r`, `\t`).
 */
export function paragraphAnswer(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/\r\n?/g, '\n')
    .replace(/\t/g, '    ')
    .split('\n')
    .join('<br>');
}

/** Undoes `paragraphAnswer` (tests and read-backs compare a note's text with the export's). */
export function answerText(answer: string): string {
  return answer
    .replace(/<br\s*\/?>/g, '\n')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

/**
 * The title Cliniko lists the note under (it sets `created_at` itself, so the original date is
 * here): type, date and source id, e.g. `Treatment, 8 Mar 2024 [Note N2]`. With patient and booking
 * it is the key a note is re-found by after an ambiguous failure (Cliniko's API documentation on
 * re-finding records).
 */
export function noteTitle(
  note: Pick<M.ClinicalNote, 'sourceId' | 'date' | 'noteType' | 'assessmentType'>,
): string {
  const tag = ` [Note ${cut(note.sourceId, 60)}]`;
  const words = `${note.noteType?.trim() || note.assessmentType?.trim() || 'Clinical note'}, ${displayDate(note.date)}`;
  return `${cut(words, 255 - tag.length)}${tag}`;
}

export interface NoteRefs {
  readonly patientId: string;
  readonly bookingId?: string;
  readonly templateId?: string;
  /** Set when the note is written with another practitioner's key (`notesWithoutAuthorKey: any-key`). */
  readonly writtenBy?: { readonly name: string; readonly date: string };
}

/** `POST /treatment_notes` body: finalised (not a draft), a paragraph answer per non-empty section. */
export function treatmentNoteBody(note: M.ClinicalNote, refs: NoteRefs) {
  const sections = note.sections.map((s) => section(s.title, paragraphAnswer(s.text)));
  if (refs.writtenBy) {
    const line = paragraphAnswer(`Written by ${refs.writtenBy.name} on ${displayDate(refs.writtenBy.date)}`);
    const first = sections[0]?.questions[0];
    if (first) first.answer = `${line}<br>${first.answer ?? ''}`;
    else sections.push(section('Note', line));
  }
  return {
    patient_id: refs.patientId,
    title: noteTitle(note),
    draft: false as const,
    ...(refs.bookingId ? { booking_id: refs.bookingId } : {}),
    ...(refs.templateId ? { treatment_note_template_id: refs.templateId } : {}),
    content: { sections },
  };
}

/**
 * The templates a notes table needs: per assessment type, the section columns its notes fill, in
 * column order (a column no note of that type uses is not part of its template).
 */
export class TemplateCollector {
  private readonly byType = new Map<string, Set<string>>();
  private readonly order = new Map<string, number>();

  add(assessmentType: string | undefined, columns: readonly { header: string; value: string }[]): void {
    const name = templateName({ assessmentType });
    const used = this.byType.get(name) ?? new Set<string>();
    this.byType.set(name, used);
    for (const c of columns) {
      if (!this.order.has(c.header)) this.order.set(c.header, this.order.size);
      if (c.value.trim() !== '') used.add(c.header);
    }
  }

  templates(): { name: string; columns: string[] }[] {
    return [...this.byType.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, used]) => ({
        name,
        columns: [...used].sort((a, b) => (this.order.get(a) ?? 0) - (this.order.get(b) ?? 0)),
      }));
  }
}
