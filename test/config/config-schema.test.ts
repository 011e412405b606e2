import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { CONFIG_SCHEMA_PATH, configSchemaText } from '../../src/config/config-schema.js';
import { parseConfig } from '../../src/config/migration-config.js';

const SAMPLE = new URL('../../samples/migration.json', import.meta.url);
const CONFIGURATION = new URL('../../docs/CONFIGURATION.md', import.meta.url);

const published = () => JSON.parse(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')) as Record<string, unknown>;
const validator = () => new Ajv2020({ allErrors: true, strict: false }).compile(published());

/** The ```json blocks of docs/CONFIGURATION.md: each a whole configuration. */
function documentedExamples(): unknown[] {
  const text = readFileSync(CONFIGURATION, 'utf8');
  return [...text.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1] ?? ''));
}

describe('the JSON Schema of migration.json', () => {
  it('samples/migration.schema.json is what `npm run schema` generates from the zod schema (run it after changing a config field)', () => {
    expect(readFileSync(CONFIG_SCHEMA_PATH, 'utf8')).toBe(configSchemaText());
  });

  it('the sample config names the schema, and both the schema and zod accept it', () => {
    const sample = JSON.parse(readFileSync(SAMPLE, 'utf8'));
    expect(sample.$schema).toBe('./migration.schema.json');
    const validate = validator();
    expect(validate(sample) ? [] : validate.errors).toEqual([]);
    expect(parseConfig(sample).clinicalNotes).toBe('pdf-per-patient');
  });

  it('accepts every example of docs/CONFIGURATION.md, as zod does, one per practitioner policy', () => {
    const examples = documentedExamples();
    const validate = validator();
    for (const example of examples) {
      expect({ example, errors: validate(example) ? [] : validate.errors }).toEqual({ example, errors: [] });
      parseConfig(example);
    }
    const policies = examples.map((e) =>
      JSON.stringify((e as { unmatchedPractitioners?: unknown }).unmatchedPractitioners),
    );
    for (const policy of ['"fail"', '"former-practitioner"', '"exclude"', '{"reassignTo":'])
      expect(policies.some((p) => p?.startsWith(policy))).toBe(true);
  });

  it('refuses what zod refuses for unknown fields and values outside an enumeration', () => {
    const validate = validator();
    for (const bad of [
      { clinicalNote: 'native' },
      { clinicalNotes: 'paper' },
      { unmatchedPractitioners: { reassignTo: '1', also: 2 } },
      { businesses: { L1: { id: '1', zone: 'Pacific/Auckland' } } },
    ]) {
      expect({ bad, schema: validate(bad) }).toEqual({ bad, schema: false });
      expect(() => parseConfig(bad)).toThrow('migration.json');
    }
  });
});
