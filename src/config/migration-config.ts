import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { isValidTimeZone } from '../source/timezone.js';

/**
 * `migration.json`: how one clinic's export maps onto its Cliniko account. Every field is
 * optional; a missing file means defaults and automatic matching by name.
 */
const ianaZone = z
  .string()
  .refine(isValidTimeZone, { message: 'is not an IANA time zone such as "Pacific/Auckland"' });
const clinikoId = z
  .union([z.string(), z.number()])
  .transform((v) => String(v))
  .refine((v) => /^\d+$/.test(v), { message: 'is not a Cliniko id (digits, as a string)' });

export const MigrationConfig = z
  .object({
    timeZone: ianaZone.optional(),
    businesses: z
      .record(
        z.string(),
        z.union([clinikoId, z.object({ id: clinikoId.optional(), timeZone: ianaZone.optional() }).strict()]),
      )
      .default({}),
    defaultBusinessId: clinikoId.optional(),
    practitioners: z.record(z.string(), clinikoId).default({}),
    unmatchedPractitioners: z
      .union([
        z.enum(['former-practitioner', 'exclude', 'fail']),
        z.object({ reassignTo: clinikoId }).strict(),
      ])
      .default('fail'),
    includeInactivePatients: z.boolean().default(true),
    /**
     * PDFs (one per patient or per note), or native Cliniko treatment notes written with each
     * author's own key (`native`), or both (`native+pdf`: the patient's PDF bundle stays as the
     * faithful archive). CONTRACT.md §2.
     */
    clinicalNotes: z
      .enum(['pdf-per-patient', 'pdf-per-note', 'native', 'native+pdf'])
      .default('pdf-per-patient'),
    /**
     * A native note whose practitioner has no key among the configured ones: into the patient's
     * PDF bundle (`pdf`), written natively with another key and a "Written by" first line
     * (`any-key`), or left out and reported (`skip`).
     */
    notesWithoutAuthorKey: z.enum(['pdf', 'any-key', 'skip']).default('pdf'),
    /**
     * Which attended (completed) appointments get their attendee marked arrived: none, those of
     * the last 90 days before the export (and every future one), or all. Did-not-arrive is always kept.
     */
    markArrivals: z.enum(['none', 'recent', 'all']).default('recent'),
    /**
     * An export patient that matches a Cliniko patient not written under its source id (same name
     * and date of birth, and e-mail or phone where both have one): `report` holds it and its
     * records back as PROBABLE_DUPLICATE, `link` adopts the Cliniko patient, `create` creates a
     * new one (CONTRACT.md §2).
     */
    existingPatients: z.enum(['report', 'link', 'create']).default('report'),
  })
  .strict();
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
