import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ClinikoId, idFromLink, LinkObject } from '../cliniko/schemas.js';
import type { CountedEntity } from '../core/entities.js';
import { isLeaseMarker } from '../lease/account-lease.js';
import type { WriteCommand } from '../ports/command-queue.js';

/**
 * The records a run writes, one entry per Cliniko resource: how the account's copies are listed
 * (paged, 100 a page, `q[]` filters from Cliniko's API documentation), the natural key a record is
 * matched by (docs/RUNNING.md, "Cliniko is the truth"; Cliniko's API documentation on re-finding
 * records), which id-map entities live in it, and how it is archived. Reconciliation (before
 * writing) and rollback (after) both walk this table, so a new writable entity (treatment notes) is
 * one more entry here.
 */
export type ResourceName =
  | 'appointmentTypes'
  | 'treatmentNoteTemplates'
  | 'contacts'
  | 'patients'
  | 'appointments'
  | 'attachments'
  | 'treatmentNotes';

/** The fields of a listed record that reconciliation and rollback read; everything else passes. */
export const AccountRecord = z.looseObject({
  id: ClinikoId,
  created_at: z.string().optional(),
  updated_at: z.string().optional(),
  archived_at: z.string().nullable().optional(),
  old_reference_id: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
  first_name: z.string().nullable().optional(),
  last_name: z.string().nullable().optional(),
  company_name: z.string().nullable().optional(),
  email: z.string().nullable().optional(),
  date_of_birth: z.string().nullable().optional(),
  patient_phone_numbers: z
    .array(z.looseObject({ number: z.string().nullable().optional() }))
    .nullable()
    .optional(),
  starts_at: z.string().optional(),
  description: z.string().nullable().optional(),
  title: z.string().nullable().optional(),
  patient: LinkObject.nullable().optional(),
  practitioner: LinkObject.nullable().optional(),
});
export type AccountRecord = z.infer<typeof AccountRecord>;

export interface ReconciledResource {
  readonly name: ResourceName;
  /** Cliniko's path (`/patients`) and the list envelope's collection key. */
  readonly path: string;
  readonly collection: string;
  /** Filters of the list: archived (and cancelled) copies too, so a re-run never creates twice. */
  readonly filters: readonly string[];
  /** The id-map entities whose Cliniko records are of this resource. */
  readonly entities: readonly CountedEntity[];
  /**
   * Listed only for the migrated patients (`q[]=patient_id:=…` per patient, or every page when
   * that is fewer requests): a clinic's own history is not read for nothing.
   */
  readonly perPatient?: boolean;
  /** The natural key of a record in the account (undefined: it cannot be one of ours). */
  keyOfRecord(record: AccountRecord): string | undefined;
  /** The natural key of what a write command would create. */
  keyOfCommand(command: WriteCommand): string | undefined;
}

const norm = (s: string | null | undefined) => (s ?? '').trim();
const instant = (s: string | undefined) => {
  const t = s ? Date.parse(s) : Number.NaN;
  return Number.isNaN(t) ? undefined : String(t);
};

export const RESOURCES: readonly ReconciledResource[] = [
  {
    name: 'appointmentTypes',
    path: '/appointment_types',
    collection: 'appointment_types',
    filters: ['archived_at:*'],
    entities: ['appointmentTypes', 'migratedAppointmentType'],
    keyOfRecord: (r) => (r.name ? norm(r.name) : undefined),
    keyOfCommand: (c) => (c.payload.kind === 'appointmentType' ? norm(c.payload.body.name) : undefined),
  },
  {
    name: 'treatmentNoteTemplates',
    path: '/treatment_note_templates',
    collection: 'treatment_note_templates',
    filters: ['archived_at:*'],
    entities: ['treatmentNoteTemplates'],
    keyOfRecord: (r) => (r.name ? norm(r.name) : undefined),
    keyOfCommand: (c) => (c.payload.kind === 'treatmentNoteTemplate' ? norm(c.payload.body.name) : undefined),
  },
  {
    name: 'contacts',
    path: '/contacts',
    collection: 'contacts',
    filters: ['archived_at:*'],
    entities: ['contacts'],
    // as the client's findContact: names, company and e-mail; a lease marker is never a clinic's contact
    keyOfRecord: (r) =>
      isLeaseMarker(r) ? undefined : [r.first_name, r.last_name, r.company_name, r.email].map(norm).join('|'),
    keyOfCommand: (c) => {
      if (c.payload.kind !== 'contact') return undefined;
      const b = c.payload.body as Record<string, string | null | undefined>;
      return [b.first_name, b.last_name, b.company_name, b.email].map(norm).join('|');
    },
  },
  {
    name: 'patients',
    path: '/patients',
    collection: 'patients',
    // every patient, with or without a source id: hand-entered ones are probable duplicates
    filters: ['archived_at:*'],
    entities: ['patients'],
    keyOfRecord: (r) => (r.old_reference_id ? norm(r.old_reference_id) : undefined),
    keyOfCommand: (c) => (c.payload.kind === 'patient' ? norm(c.payload.body.old_reference_id) : undefined),
  },
  {
    name: 'appointments',
    path: '/individual_appointments',
    collection: 'individual_appointments',
    filters: ['archived_at:*', 'cancelled_at:*'],
    entities: ['appointments'],
    perPatient: true,
    keyOfRecord: (r) => {
      const patient = idFromLink(r.patient);
      const practitioner = idFromLink(r.practitioner);
      const at = instant(r.starts_at);
      return patient && practitioner && at ? `${patient}|${practitioner}|${at}` : undefined;
    },
    keyOfCommand: (c) => {
      if (c.payload.kind !== 'appointment') return undefined;
      const b = c.payload.body;
      const at = instant(b.starts_at);
      return at ? `${b.patient_id}|${b.practitioner_id}|${at}` : undefined;
    },
  },
  {
    name: 'attachments',
    path: '/patient_attachments',
    collection: 'patient_attachments',
    filters: ['archived_at:*'],
    // notes PDFs (clinicalNotes, or notesArchive beside native notes), letters and uploads
    entities: ['clinicalNotes', 'notesArchive', 'letters', 'fileUploads'],
    perPatient: true,
    keyOfRecord: (r) => {
      const patient = idFromLink(r.patient);
      return patient && r.description ? `${patient}|${r.description}` : undefined;
    },
    keyOfCommand: (c) =>
      c.payload.kind === 'attachment' ? `${c.payload.patientId}|${c.payload.description}` : undefined,
  },
  {
    name: 'treatmentNotes',
    path: '/treatment_notes',
    collection: 'treatment_notes',
    filters: ['archived_at:*'],
    // native notes (`clinicalNotes: "native"`); their titles carry the source id
    entities: ['clinicalNotes'],
    perPatient: true,
    keyOfRecord: (r) => {
      const patient = idFromLink(r.patient);
      return patient && r.title ? `${patient}|${r.title}` : undefined;
    },
    keyOfCommand: (c) =>
      c.payload.kind === 'treatmentNote' ? `${c.payload.body.patient_id}|${c.payload.body.title}` : undefined,
  },
];

/** Reconciled in this order: patients first, since appointments and attachments are read per patient. */
export const RECONCILE_ORDER: readonly ResourceName[] = [
  'appointmentTypes',
  'treatmentNoteTemplates',
  'contacts',
  'patients',
  'appointments',
  'attachments',
  'treatmentNotes',
];

/** Archived newest dependants first (docs/RUNNING.md, `rollback`). */
export const ROLLBACK_ORDER: readonly ResourceName[] = [
  'treatmentNotes',
  'attachments',
  'appointments',
  'patients',
  'contacts',
  'appointmentTypes',
  'treatmentNoteTemplates',
];

export function resource(name: ResourceName): ReconciledResource {
  const r = RESOURCES.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
}

/**
 * The resource a write command's record is of (an entity may live in several: a clinical note is
 * a PDF attachment or a native treatment note), told by the command's natural key.
 */
export function resourceOfCommand(
  command: WriteCommand,
): { resource: ReconciledResource; key: string } | undefined {
  for (const r of RESOURCES) {
    if (!r.entities.includes(command.entity)) continue;
    const key = r.keyOfCommand(command);
    if (key !== undefined) return { resource: r, key };
  }
  return undefined;
}

/** The resources whose records an id-map entity's ids may be. */
export const resourcesOf = (entity: CountedEntity): ReconciledResource[] =>
  RESOURCES.filter((x) => x.entities.includes(entity));

/** A natural key as it is stored: fixed length, whatever the description or names hold. */
export const naturalKeyHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 40);

/** What reconciliation of one resource found, as the Report step reads it back. */
export const ReconcileSummary = z.object({
  read: z.number(),
  requests: z.number(),
  notInCliniko: z.number(),
  found: z.number(),
});
/** What reconciliation of one resource found, as the Report step reads it back. */
export interface ReconcileOutput {
  readonly resource: ResourceName;
  /** Records of the resource read from the account (archived ones included). */
  readonly read: number;
  readonly requests: number;
  /** Cached ids no longer in the account: forgotten, created again. */
  readonly notInCliniko: number;
  /** Records in the account the id map did not know: adopted by natural key. */
  readonly found: number;
}

/**
 * Where reconciliation leaves what later steps read: the index of the account's live patients
 * (account-patients.ts), each resource's figures once it is done.
 */
export const accountKeys = {
  patients: (runId: string) => `work/${runId}/account/patients.json`,
  summary: (runId: string, name: ResourceName) => `work/${runId}/account/${name}.summary.json`,
};
