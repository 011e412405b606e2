// Writes samples/migration.schema.json, the JSON Schema of migration.json, from its zod schema
// (`npm run schema`). Run it after changing a config field; test/config/config-schema.test.ts
// fails until the published file matches.
import { writeFileSync } from 'node:fs';
import { CONFIG_SCHEMA_PATH, configSchemaText } from '../src/config/config-schema.js';

writeFileSync(CONFIG_SCHEMA_PATH, configSchemaText());
console.log(`wrote ${CONFIG_SCHEMA_PATH}`);
