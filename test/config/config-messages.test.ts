import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { closestName, editDistance, fieldsAt } from '../../src/config/did-you-mean.js';
import { jsonErrorPlace, lineAndColumn } from '../../src/config/json-error.js';
import {
  ConfigError,
  loadConfig,
  MigrationConfig,
  parseConfig,
  SAMPLE_CONFIG_PATH,
} from '../../src/config/migration-config.js';
import { tempDir } from '../support/exports.js';

/** The ConfigError message `parseConfig` throws for `input`, split into its lines. */
function refusal(input: unknown): string[] {
  try {
    parseConfig(input);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as Error).message.split('\n');
  }
  throw new Error('parseConfig accepted it');
}

async function loadRefusal(path: string): Promise<string> {
  const err = await loadConfig(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return (err as Error).message;
}

async function writeConfig(text: string): Promise<string> {
  const path = join(await tempDir('config-'), 'migration.json');
  writeFileSync(path, text);
  return path;
}

describe('an unknown field in migration.json', () => {
  it('is named on its own line with the known field it most likely misspells', () => {
    expect(refusal({ clinicalNote: 'native', timezone: 'Pacific/Auckland', colour: 'blue' })).toEqual([
      'migration.json: clinicalNote: unknown field; did you mean "clinicalNotes"?',
      'migration.json: timezone: unknown field; did you mean "timeZone"?',
      'migration.json: colour: unknown field',
    ]);
  });

  it('is found inside a business and inside the practitioner policy, where a union hid it', () => {
    expect(refusal({ businesses: { L1: { id: '1', timeZnoe: 'Pacific/Auckland' } } })).toEqual([
      'migration.json: businesses.L1.timeZnoe: unknown field; did you mean "timeZone"?',
    ]);
    expect(refusal({ unmatchedPractitioners: { reassignto: '12' } })).toEqual([
      'migration.json: unmatchedPractitioners.reassignto: unknown field; did you mean "reassignTo"?',
    ]);
  });

  it('gives a misspelt value the closest allowed word, also where an object could stand instead', () => {
    expect(refusal({ clinicalNotes: 'native-pdf' })).toEqual([
      'migration.json: clinicalNotes: Invalid option: expected one of "pdf-per-patient"|"pdf-per-note"|"native"|"native+pdf"; did you mean "native+pdf"?',
    ]);
    expect(refusal({ unmatchedPractitioners: 'Fail' })).toEqual([
      'migration.json: unmatchedPractitioners: Invalid option: expected one of "former-practitioner"|"exclude"|"fail"; did you mean "fail"?',
    ]);
    expect(refusal({ markArrivals: 'sometimes' })).toEqual([
      'migration.json: markArrivals: Invalid option: expected one of "none"|"recent"|"all"',
    ]);
  });

  it('suggests nothing when no known field is close, so a guess is never misleading', () => {
    expect(closestName('tz', ['id', 'timeZone'])).toBeUndefined();
    expect(closestName('zone', ['id', 'timeZone'])).toBeUndefined();
    expect(closestName('ix', ['id', 'timeZone'])).toBe('id');
    expect(closestName('defaultBusiness', ['businesses', 'defaultBusinessId'])).toBe('defaultBusinessId');
    expect(closestName('INCLUDEINACTIVEPATIENTS', ['includeInactivePatients'])).toBe(
      'includeInactivePatients',
    );
  });

  it('counts a swap of two neighbouring letters as one edit', () => {
    expect(editDistance('timeZnoe', 'timeZone')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('knows the fields of each strict object from the schema itself', () => {
    expect(fieldsAt(MigrationConfig, [])).toContain('existingPatients');
    expect(fieldsAt(MigrationConfig, ['businesses', 'any location'])).toEqual(['id', 'timeZone']);
    expect(fieldsAt(MigrationConfig, ['unmatchedPractitioners'])).toEqual(['reassignTo']);
    expect(fieldsAt(MigrationConfig, ['timeZone'])).toEqual([]);
  });
});

describe('migration.json that is not JSON', () => {
  it('is reported at its line and column, naming the file', async () => {
    const path = await writeConfig('{\n  "timeZone": "Pacific/Auckland",\n  "clinicalNotes": \n}\n');
    expect(await loadRefusal(path)).toBe(`${path}:4:1: not valid JSON: unexpected "}", expected a value`);
  });

  it('names a trailing comma at the comma, and a file cut short at its end', async () => {
    expect(await loadRefusal(await writeConfig('{\r\n  "timeZone": "UTC",\r\n}'))).toMatch(
      /:2:20: not valid JSON: a comma before "}" \(JSON allows no trailing comma\)$/,
    );
    expect(await loadRefusal(await writeConfig('{\n  "timeZone": "UTC"'))).toMatch(
      /:2:20: not valid JSON: the file ends where "," or "}" should be$/,
    );
  });

  it('finds the character JSON.parse refuses where its message gives a position', () => {
    const broken = [
      '{"a": 1 "b": 2}',
      '{\n  "a": [1, 2\n  "b"]}',
      '{"a": tru}',
      '{"a": 01}',
      '{"a": 1.}',
      '{"a": "\\x"}',
      '{"a": 1}\n{"b": 2}',
      "{'a': 1}",
      '[1, 2,\n]',
    ];
    for (const text of broken) {
      let v8: number | undefined;
      try {
        JSON.parse(text);
      } catch (err) {
        const m = /at position (\d+)/.exec((err as Error).message);
        v8 = m ? Number(m[1]) : undefined;
      }
      const place = jsonErrorPlace(text);
      expect({ text, found: place !== undefined }).toEqual({ text, found: true });
      if (v8 !== undefined) expect({ text, offset: place?.offset }).toEqual({ text, offset: v8 });
    }
    // nesting too deep to scan leaves JSON.parse's own position to the caller
    expect(jsonErrorPlace(`${'['.repeat(200_000)}x`)).toBeUndefined();
    for (const valid of ['{}', '[]', '{"a": [1, -2.5e+3, true, false, null, "\\u00e9\\n"]}', ' 0 '])
      expect(jsonErrorPlace(valid)).toBeUndefined();
  });

  it('counts columns in characters and lines at LF, CRLF or CR', () => {
    expect(lineAndColumn('a\r\nb\rc\nde', 8)).toEqual({ line: 4, column: 2 });
    expect(lineAndColumn('a\r\nb\rc\nde', 9)).toEqual({ line: 4, column: 3 });
    expect(lineAndColumn('a\r\nb', 2)).toEqual({ line: 1, column: 3 });
    expect(lineAndColumn('"😀"x', 4)).toEqual({ line: 1, column: 4 });
  });

  it('reads a file saved with a byte-order mark, as Windows editors save UTF-8', async () => {
    const config = await loadConfig(await writeConfig('\uFEFF{"timeZone": "Pacific/Auckland"}'));
    expect(config.timeZone).toBe('Pacific/Auckland');
  });
});

describe('a migration.json that is not there', () => {
  it('names the path looked for and how to start one from the sample', async () => {
    const dir = await tempDir('config-');
    const path = join(dir, 'clinic', 'migration.json');
    const message = await loadRefusal(path);
    expect(message).toContain(resolve(path));
    expect(message).toContain(`copy ${SAMPLE_CONFIG_PATH} there`);
    expect(message.split('\n')).toHaveLength(1);
    // the sample it points at exists and is a valid configuration
    expect((await loadConfig(SAMPLE_CONFIG_PATH)).timeZone).toBe('Pacific/Auckland');
  });

  it('says why a path that exists cannot be read', async () => {
    const dir = await tempDir('config-');
    expect(await loadRefusal(dir)).toBe(`${dir}: cannot read the configuration file (EISDIR)`);
  });
});
