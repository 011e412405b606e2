import { z } from 'zod';

/** The report's entity keys (docs/REPORT.md, `entities`) and their counts. */
export const ENTITY_KEYS = [
  'patients',
  'contacts',
  'appointmentTypes',
  'appointments',
  'clinicalNotes',
  'letters',
  'fileUploads',
] as const;
export const EntityKey = z.enum(ENTITY_KEYS);
export type EntityKey = (typeof ENTITY_KEYS)[number];

export interface EntityCounts {
  source: number;
  planned: number;
  created: number;
  alreadyPresent: number;
  skipped: number;
  invalid: number;
  failed: number;
  /** Of the alreadyPresent records, those updated in Cliniko because they changed. */
  updated: number;
  /** Written by an earlier run of this clinic, absent from this export; never deleted. */
  missingFromExport: number;
}

/** A report's counts of one entity, as read back from report.json. */
export const EntityCountsSchema: z.ZodType<EntityCounts> = z.object({
  source: z.number(),
  planned: z.number(),
  created: z.number(),
  alreadyPresent: z.number(),
  skipped: z.number(),
  invalid: z.number(),
  failed: z.number(),
  updated: z.number(),
  missingFromExport: z.number(),
});

export function emptyCounts(): EntityCounts {
  return {
    source: 0,
    planned: 0,
    created: 0,
    alreadyPresent: 0,
    skipped: 0,
    invalid: 0,
    failed: 0,
    updated: 0,
    missingFromExport: 0,
  };
}

export function emptyEntities(): Record<EntityKey, EntityCounts> {
  return Object.fromEntries(ENTITY_KEYS.map((k) => [k, emptyCounts()])) as Record<EntityKey, EntityCounts>;
}

/** `source = planned + created + alreadyPresent + skipped + invalid + failed`, for every entity. */
export function accountedFor(c: EntityCounts): boolean {
  return c.source === c.planned + c.created + c.alreadyPresent + c.skipped + c.invalid + c.failed;
}

/** `InvoiceItems.csv` → `invoiceItems`. */
export function tableKey(file: string): string {
  const base = file.replace(/^.*\//, '').replace(/\.csv$/i, '');
  const words = base.split(/[\s_-]+/).filter(Boolean);
  return words
    .map((w, i) =>
      i === 0 ? w.charAt(0).toLowerCase() + w.slice(1) : w.charAt(0).toUpperCase() + w.slice(1),
    )
    .join('');
}

/**
 * Written, but no source row of their own, so counted apart from the report's entities: the
 * "Migrated appointment" type, the treatment note templates native notes are based on (one per
 * assessment type), and the notes PDF kept as the archive beside native notes (`native+pdf`).
 */
export const SUPPORT_ENTITIES = [
  'migratedAppointmentType',
  'treatmentNoteTemplates',
  'notesArchive',
] as const;
export type SupportEntity = (typeof SUPPORT_ENTITIES)[number];
export const isSupportEntity = (entity: string): entity is SupportEntity =>
  (SUPPORT_ENTITIES as readonly string[]).includes(entity);

/** What a run counts and writes: the report's entities and the support records beside them. */
export const CountedEntity = z.enum([...ENTITY_KEYS, ...SUPPORT_ENTITIES]);
export type CountedEntity = EntityKey | SupportEntity;

/**
 * What a person reads for each entity, everywhere one is named to them (`status`, the progress,
 * the report page): Cliniko's own words for its records, and the export's for what has none.
 */
export const DISPLAY_NAMES: Readonly<Record<CountedEntity, string>> = {
  patients: 'Patients',
  contacts: 'Contacts',
  appointmentTypes: 'Appointment types',
  appointments: 'Appointments',
  clinicalNotes: 'Clinical notes',
  letters: 'Letters',
  fileUploads: 'File uploads',
  migratedAppointmentType: 'Migrated appointment type',
  treatmentNoteTemplates: 'Treatment note templates',
  notesArchive: 'Notes archive (PDF)',
};

/** Problems also name what is not counted: the export itself, its locations and practitioners, the run. */
const OTHER_NAMES: Readonly<Record<string, string>> = {
  export: 'Export',
  locations: 'Locations',
  practitioners: 'Practitioners',
  run: 'Run',
  businesses: 'Businesses',
};
const NAMES = new Map<string, string>([...Object.entries(DISPLAY_NAMES), ...Object.entries(OTHER_NAMES)]);

/**
 * The display name of an entity key (`migratedAppointmentType` → `Migrated appointment type`); a
 * key this list does not know yet is spelled out from its words, never shown as code.
 */
export function displayName(key: string): string {
  const known = NAMES.get(key);
  if (known) return known;
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}
