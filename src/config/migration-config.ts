import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { isValidTimeZone } from '../core/time-zone.js';
import { closestName, fieldsAt } from './did-you-mean.js';
import { jsonErrorPlace, lineAndColumn } from './json-error.js';

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

/** Where an issue's field is, as a person reads it: `businesses.L1.timeZone`, or `(top level)`. */
const fieldName = (path: readonly PropertyKey[]) => path.map(String).join('.') || '(top level)';

/**
 * One line per field an operator must fix, each `<file>: <field>: <what is wrong>`. An unknown
 * field is named on its own line with the known field it most likely misspells, at every level
 * where the schema allows no other fields. A union that fails (a business as an id or an object;
 * a practitioner policy as a word or `{"reassignTo"}`) reports the unknown fields of the object
 * it was given rather than zod's bare "Invalid input", since a misspelt field is then the cause,
 * and for a word the words it may be. A word outside an enumeration gets the closest one.
 */
function issueLines(
  issues: readonly z.core.$ZodIssue[],
  at: readonly PropertyKey[],
  input: unknown,
  source: string,
): string[] {
  return issues.flatMap((issue) => {
    const path = [...at, ...issue.path];
    if (issue.code === 'unrecognized_keys') {
      const known = fieldsAt(MigrationConfig, path);
      return issue.keys.map((key) => {
        const meant = closestName(key, known);
        const hint = meant === undefined ? '' : `; did you mean "${meant}"?`;
        return `${source}: ${fieldName([...path, key])}: unknown field${hint}`;
      });
    }
    if (issue.code === 'invalid_union') {
      const misspelt = issue.errors.find((branch) => branch.some((i) => i.code === 'unrecognized_keys'));
      if (misspelt)
        return issueLines(
          misspelt.filter((i) => i.code === 'unrecognized_keys'),
          path,
          input,
          source,
        );
      // A word where a word or an object may stand (`"unmatchedPractitioners": "Fail"`): the words.
      const words =
        typeof valueAt(input, path) === 'string'
          ? issue.errors.flat().filter((i) => i.code === 'invalid_value' && i.path.length === 0)
          : [];
      if (words.length === 1) return issueLines(words, path, input, source);
    }
    if (issue.code === 'invalid_value') {
      const given = valueAt(input, path);
      const words = issue.values.filter((v) => typeof v === 'string');
      const meant = typeof given === 'string' ? closestName(given, words) : undefined;
      const hint = meant === undefined ? '' : `; did you mean "${meant}"?`;
      return [`${source}: ${fieldName(path)}: ${issue.message}${hint}`];
    }
    return [`${source}: ${fieldName(path)}: ${issue.message}`];
  });
}

/** The value at an issue's path in the parsed JSON, or undefined where there is none. */
function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let here = input;
  for (const step of path) {
    if (typeof here !== 'object' || here === null) return undefined;
    here = Reflect.get(here, step);
  }
  return here;
}

/**
 * Validates a parsed config; throws {@link ConfigError} whose message has one line per problem,
 * naming `source` and the field (`migration.json: businesses.L1.timeZone: …`).
 */
export function parseConfig(input: unknown, source = 'migration.json'): MigrationConfig {
  const result = MigrationConfig.safeParse(input ?? {});
  if (result.success) return result.data;
  throw new ConfigError(issueLines(result.error.issues, [], input, source).join('\n'));
}

/** The sample configuration shipped with the package, a start for a clinic's own. */
export const SAMPLE_CONFIG_PATH = fileURLToPath(new URL('../../samples/migration.json', import.meta.url));

/** V8's own position for a JSON error, when its message gives one ("… at position 20"). */
function v8Position(err: unknown): number | undefined {
  const message = z.object({ message: z.string() }).safeParse(err).data?.message ?? '';
  const m = /at position (\d+)/.exec(message);
  return m?.[1] === undefined ? undefined : Number(m[1]);
}

/**
 * Reads and validates `migration.json`; no path means the defaults. Throws {@link ConfigError}
 * (the CLI's exit 2) in one line naming the file: a missing file with the path looked for and how
 * to start one from the sample; invalid JSON as `<path>:<line>:<column>: …`, as editors jump to it;
 * a field the schema refuses as {@link parseConfig} does. A leading byte-order mark (Windows
 * Notepad's UTF-8) is dropped, as JSON.parse would otherwise refuse the first character.
 */
export async function loadConfig(path: string | undefined): Promise<MigrationConfig> {
  if (!path) return parseConfig({});
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    // Parsed, not `instanceof Error`: fs errors come from another realm under some test runners.
    const code = z.object({ code: z.string() }).safeParse(err).data?.code;
    if (code === 'ENOENT')
      throw new ConfigError(
        `${path}: no configuration file at ${resolve(path)}; copy ${SAMPLE_CONFIG_PATH} there and edit it, or leave out --config to use the defaults and matching by name`,
      );
    throw new ConfigError(`${path}: cannot read the configuration file (${code ?? String(err)})`);
  }
  return parseConfigText(text, path);
}

/**
 * Parses and validates the text of a `migration.json` (`source`: the file's path, or the bucket
 * key it was read from on AWS, named in every message), so the CLI and the deployed Preflight
 * refuse it in the same words. Throws {@link ConfigError} in one line: invalid JSON as
 * `<source>:<line>:<column>: not valid JSON: <what>` (line and column 1-based, columns in
 * characters, by jsonErrorPlace), a field the schema refuses as {@link parseConfig} does. A
 * leading byte-order mark (Windows Notepad's UTF-8) is dropped, as JSON.parse would otherwise
 * refuse the first character.
 */
export function parseConfigText(text: string, source: string): MigrationConfig {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (err) {
    const place = jsonErrorPlace(body);
    if (place)
      throw new ConfigError(`${source}:${place.line}:${place.column}: not valid JSON: ${place.reason}`);
    const offset = v8Position(err);
    if (offset === undefined) throw new ConfigError(`${source}: not valid JSON`);
    const { line, column } = lineAndColumn(body, offset);
    throw new ConfigError(`${source}:${line}:${column}: not valid JSON`);
  }
  return parseConfig(json, source);
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
