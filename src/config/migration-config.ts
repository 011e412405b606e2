import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isValidTimeZone } from '../core/time-zone.js';

/**
 * `migration.json`: how one clinic's export maps onto its Cliniko account. Every field is
 * optional; a missing file means defaults and automatic matching by name.
 */
const ianaZone = z
  .string()
  .refine(isValidTimeZone, { message: 'is not an IANA time zone such as "Pacific/Auckland"' })
  .meta({ examples: ['Pacific/Auckland', 'Australia/Sydney'] });
const clinikoId = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((v) => /^\d+$/.test(v), { message: 'is not a Cliniko id (digits, as a string)' })
  .meta({
    description: 'A Cliniko id: digits, best written as a string (ids are 64-bit and outgrow JSON numbers).',
    examples: ['1234567890123456789'],
  });

/** Field descriptions also feed the published JSON Schema (`npm run schema`), shown by editors. */
export const MigrationConfig = z
  .object({
    $schema: z.string().optional().meta({
      description:
        'Where editors find this schema (samples/migration.schema.json); not read by the migration.',
    }),
    timeZone: ianaZone.optional().meta({
      description:
        "IANA zone of the clinic, for locations with no zone of their own: default the export manifest's zone, else the default business's zone in Cliniko.",
    }),
    businesses: z
      .record(
        z.string(),
        z.union([
          clinikoId,
          z
            .object({
              id: clinikoId.optional(),
              timeZone: ianaZone.optional().meta({
                description:
                  "This location's IANA zone; default the location's TimeZone column, else its Cliniko business's zone, else the clinic's.",
              }),
            })
            .strict(),
        ]),
      )
      .default({})
      .meta({
        description:
          'Source location id (Gensolve LocationId) to a Cliniko business id, or to {"id", "timeZone"}. A location left out is matched to the business of the same name.',
      }),
    defaultBusinessId: clinikoId.optional().meta({
      description:
        "Cliniko business that locations matching no business go to (reported as LOCATION_UNMATCHED); default the account's first business.",
    }),
    practitioners: z.record(z.string(), clinikoId).default({}).meta({
      description:
        'Source practitioner id (Gensolve PractitionerId) to a Cliniko practitioner id. A practitioner left out is matched by name.',
    }),
    unmatchedPractitioners: z
      .union([
        z.enum(['former-practitioner', 'exclude', 'fail']),
        z.object({ reassignTo: clinikoId }).strict(),
      ])
      .default('fail')
      .meta({
        description:
          'A source practitioner neither mapped nor matched by name: "fail" (default: the dry run lists them and cannot be approved), "former-practitioner" (assigned to the Cliniko practitioner named "Former practitioner"), {"reassignTo": "<id>"} (assigned to that practitioner) or "exclude" (their appointments skipped and reported).',
      }),
    includeInactivePatients: z
      .boolean()
      .default(true)
      .meta({ description: 'Migrate patients marked inactive in the source (default true).' }),
    /**
     * PDFs (one per patient or per note), or native Cliniko treatment notes written with each
     * author's own key (`native`), or both (`native+pdf`: the patient's PDF bundle stays as the
     * faithful archive; docs/CONFIGURATION.md).
     */
    clinicalNotes: z
      .enum(['pdf-per-patient', 'pdf-per-note', 'native', 'native+pdf'])
      .default('pdf-per-patient')
      .meta({
        description:
          'How clinical notes arrive: "pdf-per-patient" (default: one PDF bundle per patient, fewest requests), "pdf-per-note", "native" (a Cliniko treatment note per note, on its appointment, written with its author\'s own key) or "native+pdf" (both).',
      }),
    /**
     * A native note whose practitioner has no key among the configured ones: into the patient's
     * PDF bundle (`pdf`), written natively with another key and a "Written by" first line
     * (`any-key`), or left out and reported (`skip`).
     */
    notesWithoutAuthorKey: z.enum(['pdf', 'any-key', 'skip']).default('pdf').meta({
      description:
        'With native notes, a note whose author has no API key configured: "pdf" (default: into the patient\'s PDF bundle), "any-key" (written natively with another key, its first line naming the author) or "skip" (left out and reported).',
    }),
    /**
     * Which attended (completed) appointments get their attendee marked arrived: none, those of
     * the last 90 days before the export (and every future one), or all. Did-not-arrive is always kept.
     */
    markArrivals: z.enum(['none', 'recent', 'all']).default('recent').meta({
      description:
        'Which completed appointments get their attendee marked arrived: "none", "recent" (default: the last 90 days before the export) or "all". Did-not-arrive is always kept.',
    }),
    /**
     * An export patient that matches a Cliniko patient not written under its source id (same name
     * and date of birth, and e-mail or phone where both have one): `report` holds it and its
     * records back as PROBABLE_DUPLICATE, `link` adopts the Cliniko patient, `create` creates a
     * new one (docs/CONFIGURATION.md).
     */
    existingPatients: z.enum(['report', 'link', 'create']).default('report').meta({
      description:
        'An export patient matching a Cliniko patient this migration did not write (same name and date of birth, and e-mail or phone where both have one): "report" (default: not created, reported as PROBABLE_DUPLICATE, its records held back), "link" (adopt the Cliniko patient) or "create".',
    }),
  })
  .strict()
  .meta({
    title: 'cliniko-migrate migration.json',
    description:
      "How one clinic's Gensolve export maps onto its Cliniko account. Every field is optional; a missing file means the defaults and matching by name.",
  });
export type MigrationConfig = z.infer<typeof MigrationConfig>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validates a parsed config; errors name the field (`businesses.L1.timeZone: …`). */
export function parseConfig(input: unknown, source = 'migration.json'): MigrationConfig {
  const result = MigrationConfig.safeParse(input ?? {});
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(top level)';
    const message =
      issue.code === 'unrecognized_keys'
        ? `unknown field(s) ${issue.keys.map((k) => `"${k}"`).join(', ')}`
        : issue.message;
    return `${source}: ${field}: ${message}`;
  });
  throw new ConfigError(lines.join('\n'));
}

export async function loadConfig(path: string | undefined): Promise<MigrationConfig> {
  if (!path) return parseConfig({});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ConfigError(`${path}: cannot read the configuration file`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON (${(err as Error).message})`);
  }
  return parseConfig(json, path);
}

export function businessOverride(
  config: MigrationConfig,
  locationId: string,
): { id?: string; timeZone?: string } {
  const entry = config.businesses[locationId];
  if (entry === undefined) return {};
  return typeof entry === 'string'
    ? { id: entry }
    : { ...(entry.id ? { id: entry.id } : {}), ...(entry.timeZone ? { timeZone: entry.timeZone } : {}) };
}

/** Native notes: Cliniko treatment notes (with or without the PDF archive). */
export const nativeNotes = (mode: string) => mode === 'native' || mode === 'native+pdf';
