import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ClinikoId, idFromLink, LinkObject } from '../cliniko/schemas.js';
import type { CountedEntity, WriteCommand } from '../pipeline/ports.js';

/**
 * The records a run writes, one entry per Cliniko resource: how the account's copies are listed
 * (paged, 100 a page, `q[]` filters from CLINIKO_API.md), the natural key a record is matched by
 * (CONTRACT.md; CLINIKO_API.md "Idempotency keys"), which id-map entities live in it, and how it
 * is archived. Reconciliation (before writing) and rollback (after) both walk this table, so a
 * new writable entity (treatment notes) is one more entry here.
 */
export type ResourceName = 'appointmentTypes' | 'contacts' | 'patients' | 'appointments' | 'attachments';

/** The fields of a listed record that reconciliation and rollback read; everything else passes. */
export const AccountRecord = z.looseObject({
  id: ClinikoId,
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
    name: 'contacts',
    path: '/contacts',
    collection: 'contacts',
    filters: ['archived_at:*'],
    entities: ['contacts'],
    // as the client's findContact: names, company and e-mail
    keyOfRecord: (r) => [r.first_name, r.last_name, r.company_name, r.email].map(norm).join('|'),
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
    entities: ['clinicalNotes', 'letters', 'fileUploads'],
    perPatient: true,
    keyOfRecord: (r) => {
      const patient = idFromLink(r.patient);
      return patient && r.description ? `${patient}|${r.description}` : undefined;
    },
    keyOfCommand: (c) =>
      c.payload.kind === 'attachment' ? `${c.payload.patientId}|${c.payload.description}` : undefined,
  },
];

/** Reconciled in this order: patients first, since appointments and attachments are read per patient. */
export const RECONCILE_ORDER: readonly ResourceName[] = [
  'appointmentTypes',
  'contacts',
  'patients',
  'appointments',
  'attachments',
];

/** Archived newest dependants first (CONTRACT.md §1, `rollback`). */
export const ROLLBACK_ORDER: readonly ResourceName[] = [
  'attachments',
  'appointments',
  'patients',
  'contacts',
  'appointmentTypes',
];

export function resource(name: ResourceName): ReconciledResource {
  const r = RESOURCES.find((x) => x.name === name);
  if (!r) throw new Error(`no resource ${name}`);
  return r;
}

/** The resource an id-map entity's records are of. */
export function resourceOf(entity: CountedEntity): ReconciledResource {
  const r = RESOURCES.find((x) => x.entities.includes(entity));
  if (!r) throw new Error(`no resource holds ${entity}`);
  return r;
}

/** A natural key as it is stored: fixed length, whatever the description or names hold. */
export const naturalKeyHash = (key: string) => createHash('sha256').update(key).digest('hex').slice(0, 40);
