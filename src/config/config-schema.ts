import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { MigrationConfig } from './migration-config.js';

/**
 * Where the schema is published: beside the sample config (docs/CONFIGURATION.md), named by its
 * `$schema`.
 */
export const CONFIG_SCHEMA_PATH = fileURLToPath(
  new URL('../../samples/migration.schema.json', import.meta.url),
);

/**
 * The JSON Schema (draft 2020-12) of `migration.json` as an operator writes it (input types: ids as
 * strings or numbers; descriptions and defaults from the zod schema's metadata), generated from
 * `MigrationConfig`. Refinements (IANA zones, digits-only ids) are not expressible here and are
 * checked by `parseConfig` alone.
 */
export function migrationConfigJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(MigrationConfig, { io: 'input', unrepresentable: 'any' });
}

/** The published file's exact text: the schema, two-space indented, ending with a newline. */
export function configSchemaText(): string {
  return `${JSON.stringify(migrationConfigJsonSchema(), null, 2)}\n`;
}
