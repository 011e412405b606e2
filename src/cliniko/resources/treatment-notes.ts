import { type CreateOnceResult, filters, type HttpBase, refound } from '../http.js';
import * as S from '../schemas.js';

/**
 * Treatment notes and their templates (Cliniko's API documentation on treatment notes and treatment
 * note templates), each created once (re-found by its natural key, Cliniko's API documentation on
 * re-finding records) and archived.
 */
export function withTreatmentNotes<Base extends HttpBase>(Base: Base) {
  return class TreatmentNotes extends Base {
    listTreatmentNotes(
      patientId: S.ClinikoId,
      options: { includeArchived?: boolean } = {},
    ): Promise<S.TreatmentNote[]> {
      return this.listAll(
        '/treatment_notes',
        'treatment_notes',
        S.TreatmentNote,
        filters({ patient_id: `=${patientId}`, archived_at: options.includeArchived ? '*' : undefined }),
      );
    }

    /**
     * Creates a treatment note. Its author is always the practitioner of this key's user (Cliniko's
     * API documentation on treatment notes): a key whose user is no practitioner is refused (422 or
     * 403).
     */
    createTreatmentNote(body: S.TreatmentNoteBody): Promise<S.TreatmentNote> {
      return this.call('POST', '/treatment_notes', { schema: S.TreatmentNote, body, idempotent: false });
    }

    archiveTreatmentNote(id: S.ClinikoId): Promise<void> {
      return this.call('POST', `/treatment_notes/${id}/archive`, { schema: undefined });
    }

    /**
     * Re-finds a note by its natural key (Cliniko's API documentation on re-finding records):
     * patient and booking are filterable, the title is not, so it is matched in the (short) list of
     * the patient's notes, archived ones included.
     */
    async findTreatmentNote(key: {
      patient_id: string;
      booking_id?: string | null;
      title: string;
    }): Promise<S.TreatmentNote | undefined> {
      const q = filters({
        patient_id: `=${key.patient_id}`,
        booking_id: key.booking_id ? `=${key.booking_id}` : undefined,
        archived_at: '*',
      });
      const notes = await this.listAll('/treatment_notes', 'treatment_notes', S.TreatmentNote, q);
      return refound(
        notes.filter(
          (n) => n.title === key.title && (key.booking_id ? true : S.idFromLink(n.booking) === undefined),
        ),
      );
    }

    createTreatmentNoteOnce(
      body: S.TreatmentNoteBody & { patient_id: string; title: string },
    ): Promise<CreateOnceResult<S.TreatmentNote>> {
      return this.createOnce(
        () => this.createTreatmentNote(body),
        () => this.findTreatmentNote(body),
      );
    }

    listTreatmentNoteTemplates(
      options: { includeArchived?: boolean } = {},
    ): Promise<S.TreatmentNoteTemplate[]> {
      return this.listAll(
        '/treatment_note_templates',
        'treatment_note_templates',
        S.TreatmentNoteTemplate,
        options.includeArchived ? ['archived_at:*'] : undefined,
      );
    }

    createTreatmentNoteTemplate(body: S.TreatmentNoteTemplateBody): Promise<S.TreatmentNoteTemplate> {
      return this.call('POST', '/treatment_note_templates', {
        schema: S.TreatmentNoteTemplate,
        body,
        idempotent: false,
      });
    }

    /** Names are not filterable: the (short) list of templates is read and matched by name. */
    async findTreatmentNoteTemplate(name: string): Promise<S.TreatmentNoteTemplate | undefined> {
      const all = await this.listTreatmentNoteTemplates({ includeArchived: true });
      return refound(all.filter((t) => t.name === name));
    }

    createTreatmentNoteTemplateOnce(
      body: S.TreatmentNoteTemplateBody & { name: string },
    ): Promise<CreateOnceResult<S.TreatmentNoteTemplate>> {
      return this.createOnce(
        () => this.createTreatmentNoteTemplate(body),
        () => this.findTreatmentNoteTemplate(body.name),
      );
    }
  };
}
