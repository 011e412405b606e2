import type { CountedEntity } from '../core/entities.js';

/** The command queue port: write commands for the writers (SQS on AWS). */
export interface CommandQueue {
  send(commands: readonly WriteCommand[]): Promise<void>;
  /** Messages still to be handled, visible or in flight (approximate, as SQS reports them). */
  outstanding(): Promise<number>;
}

/** What a writer is asked to do: everything it needs, Cliniko ids of references included. */
export type WriteCommand = {
  readonly runId: string;
  readonly clinicId: string;
  /** The run's state scope (clinic and Cliniko account): where the record's id is kept. */
  readonly scope: string;
  readonly entity: CountedEntity;
  readonly sourceId: string;
  readonly file: string;
  readonly row: number;
  readonly hash: string;
  /** Which of the run's keys (Cliniko users) writes it: spreads load over their rate limits. */
  readonly keyIndex: number;
  /**
   * The key must be `keyIndex` (a treatment note is authored by its key's practitioner). Absent:
   * any key will do, and a writer takes the least loaded one (its lane).
   */
  readonly pinnedKey?: boolean;
  readonly payload: WritePayload;
  /** An earlier attempt may have created the record: re-find it before creating. */
  readonly refind?: boolean;
  /** Since when the written attachment has been waited on to finish processing in Cliniko. */
  readonly waitingSince?: string;
};

export type WritePayload =
  | { readonly kind: 'appointmentType'; readonly body: Record<string, unknown> & { name: string } }
  | { readonly kind: 'contact'; readonly body: Record<string, unknown> }
  | {
      readonly kind: 'patient';
      readonly body: Record<string, unknown> & {
        old_reference_id: string;
        first_name: string;
        last_name: string;
      };
      readonly alerts: readonly string[];
      readonly referral?: { readonly contactId: string };
      /**
       * `existingPatients: "link"`: the Cliniko patient this one is adopted as (its
       * `old_reference_id` set when it has none), instead of creating it.
       */
      readonly link?: { readonly clinikoId: string; readonly setReference: boolean };
    }
  | {
      readonly kind: 'appointment';
      readonly body: Record<string, unknown> & {
        patient_id: string;
        practitioner_id: string;
        starts_at: string;
      };
      /** The export's client the appointment is booked for (named when it would change patient). */
      readonly patientSourceId?: string;
      readonly cancel?: { cancellation_reason: number; cancellation_note?: string };
      readonly arrived?: boolean;
    }
  | {
      /** A treatment note template, re-found by name before it is created (once per account). */
      readonly kind: 'treatmentNoteTemplate';
      readonly body: { name: string; content: { sections: readonly unknown[] } };
    }
  | {
      /** A native treatment note, finalised, written with its author's key (`pinnedKey`). */
      readonly kind: 'treatmentNote';
      readonly body: {
        patient_id: string;
        title: string;
        draft: false;
        booking_id?: string;
        treatment_note_template_id?: string;
        content: { sections: readonly unknown[] };
      };
    }
  | {
      /**
       * A letter or upload (streamed from the export) or a notes PDF the mapper made (streamed
       * from the run's files), into Cliniko's attachment flow.
       */
      readonly kind: 'attachment';
      readonly patientId: string;
      /** The entry's path inside the export, or the name of the file the run made. */
      readonly path: string;
      /** Set when the file is the run's own (in the bucket under this key), not an export entry. */
      readonly runFile?: string;
      /**
       * The source rows the file carries when it bundles several (a patient's notes): each is
       * counted and recorded with the attachment's id. Absent: the command's own source row.
       */
      readonly members?: readonly string[];
      readonly size: number;
      readonly filename: string;
      readonly contentType: string;
      /** At most 255 characters; also the key the record is re-found by. */
      readonly description: string;
    };
