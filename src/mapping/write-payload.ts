import { z } from 'zod';
import type {
  AppointmentTypeBody,
  ContactBody,
  IndividualAppointmentBody,
  IndividualAppointmentCancelBody,
  PatientBody,
  TreatmentNoteBody,
  TreatmentNoteTemplateBody,
} from '../cliniko/schemas.js';
import { ENTITY_KEYS } from '../core/entities.js';

/**
 * What a writer is asked to write, by kind: each body is the Cliniko request body it is sent as
 * (contract/cliniko-openapi.yaml `requestBodies`), from the mapper to the writer without widening.
 */
export type WritePayload =
  | { readonly kind: 'appointmentType'; readonly body: AppointmentTypeBody & { name: string } }
  | { readonly kind: 'contact'; readonly body: ContactBody }
  | {
      readonly kind: 'patient';
      readonly body: PatientBody & { old_reference_id: string; first_name: string; last_name: string };
      /** Medical alerts to create after the patient (one request each). */
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
      readonly body: IndividualAppointmentBody & {
        patient_id: string;
        practitioner_id: string;
        starts_at: string;
      };
      /** The export's client the appointment is booked for (named when it would change patient). */
      readonly patientSourceId?: string;
      readonly cancel?: IndividualAppointmentCancelBody;
      /** true: arrived; false: did not arrive (set through the appointment's attendee). */
      readonly arrived?: boolean;
    }
  | {
      /** A treatment note template, re-found by name before it is created (once per account). */
      readonly kind: 'treatmentNoteTemplate';
      readonly body: TreatmentNoteTemplateBody & { name: string };
    }
  | {
      /** A native treatment note, finalised, written with its author's key (`pinnedKey`). */
      readonly kind: 'treatmentNote';
      readonly body: TreatmentNoteBody & { patient_id: string; title: string; draft: false };
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
      /** Bytes. */
      readonly size: number;
      readonly filename: string;
      readonly contentType: string;
      /** At most 255 characters; also the key the record is re-found by. */
      readonly description: string;
    };

/**
 * The writer's side of the queue. Bodies are checked for what the writer relies on (the keys a
 * record is re-found by, the ids it points at); the rest passes as the mapper made it. Every
 * branch's output is assignable to its `WritePayload` branch (checked where the two meet).
 */
const id = z.string().min(1);
const sections = z.array(z.looseObject({ name: z.string().nullish() }));
export const WritePayloadSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('appointmentType'), body: z.looseObject({ name: z.string().min(1) }) }),
  z.object({ kind: z.literal('contact'), body: z.looseObject({}) }),
  z.object({
    kind: z.literal('patient'),
    body: z.looseObject({ old_reference_id: id, first_name: z.string(), last_name: z.string() }),
    alerts: z.array(z.string()),
    referral: z.object({ contactId: id }).optional(),
    link: z.object({ clinikoId: id, setReference: z.boolean() }).optional(),
  }),
  z.object({
    kind: z.literal('appointment'),
    body: z.looseObject({ patient_id: id, practitioner_id: id, starts_at: z.iso.datetime({ offset: true }) }),
    patientSourceId: z.string().optional(),
    cancel: z
      .looseObject({
        cancellation_reason: z.literal([10, 20, 30, 40, 50, 60]).optional(),
        cancellation_note: z.string().nullish(),
      })
      .optional(),
    arrived: z.boolean().optional(),
  }),
  z.object({
    kind: z.literal('treatmentNoteTemplate'),
    body: z.looseObject({ name: z.string().min(1), content: z.object({ sections }).optional() }),
  }),
  z.object({
    kind: z.literal('treatmentNote'),
    body: z.looseObject({
      patient_id: id,
      title: z.string(),
      draft: z.literal(false),
      booking_id: id.optional(),
      content: z.object({ sections }).nullish(),
    }),
  }),
  z.object({
    kind: z.literal('attachment'),
    patientId: id,
    path: z.string().min(1),
    runFile: z.string().min(1).optional(),
    members: z.array(id).optional(),
    size: z.number().int().min(0),
    filename: z.string().min(1),
    contentType: z.string().min(1),
    description: z.string().max(255),
  }),
]);

/** The entities a command may write: the report's, and the records written beside them. */
const COMMAND_ENTITIES = [
  ...ENTITY_KEYS,
  'migratedAppointmentType',
  'treatmentNoteTemplates',
  'notesArchive',
] as const;

/** An SQS write message (`WriteCommand`, ports): parsed where it enters the writer. */
export const WriteCommandSchema = z.object({
  runId: id,
  clinicId: id,
  scope: id,
  entity: z.enum(COMMAND_ENTITIES),
  sourceId: id,
  file: z.string(),
  row: z.number().int().min(0),
  hash: z.string(),
  keyIndex: z.number().int().min(0),
  pinnedKey: z.boolean().optional(),
  payload: WritePayloadSchema,
  refind: z.boolean().optional(),
  waitingSince: z.iso.datetime({ offset: true }).optional(),
});
/**
 * What a writer is asked to do: everything it needs, Cliniko ids of references included. The type
 * is the schema's output, so the command MapBatch sends and the one the writer parses cannot drift.
 * `scope`: the clinic in one Cliniko account (where the record's id is kept); `keyIndex`: which of
 * the run's keys writes it (`pinnedKey`: must be that key, a treatment note's author); `refind`: an
 * earlier attempt may have created the record; `waitingSince`: ISO 8601, an attachment waited on.
 */
export type WriteCommand = Readonly<Omit<z.output<typeof WriteCommandSchema>, 'payload'>> & {
  /** The typed body (WritePayload): the schema checks its shape loosely where a message enters. */
  readonly payload: WritePayload;
};
export type WriteCommandMessage = z.output<typeof WriteCommandSchema>;

/** A message the writer cannot act on: no retry will make it readable (it goes to the DLQ). */
export class MalformedWriteMessage extends Error {
  override name = 'MalformedWriteMessage';
}

/**
 * An SQS message body → its write command. Throws `MalformedWriteMessage` naming the fields that
 * are wrong (never their values: a body holds patient data) when it is not JSON or not a command.
 */
export function parseWriteMessage(body: string): WriteCommandMessage {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new MalformedWriteMessage('the write message is not JSON');
  }
  const parsed = WriteCommandSchema.safeParse(json);
  if (!parsed.success)
    throw new MalformedWriteMessage(
      `the write message is not a write command: ${parsed.error.issues
        .map((i) => `${i.path.join('.') || '(message)'}: ${i.message}`)
        .join('; ')}`,
    );
  return parsed.data;
}
