import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { CONFIGURATION_DOC, configReference, withReference } from '../../tools/config-reference.js';

describe("docs/CONFIGURATION.md's field reference", () => {
  const doc = readFileSync(CONFIGURATION_DOC, 'utf8');

  it('is the one the config schema renders today (regenerate: npm run docs:config)', () => {
    expect(withReference(doc, configReference())).toBe(doc);
  });

  it('has a row for every field of the schema, with its default', () => {
    const reference = configReference({
      description: 'A config.',
      additionalProperties: false,
      properties: {
        mode: { type: 'string', enum: ['a', 'b'], default: 'a', description: 'Which | way.' },
        places: {
          type: 'object',
          additionalProperties: {
            type: 'object',
            properties: { zone: { type: 'string', description: 'Its zone.' } },
          },
        },
      },
    });
    expect(reference).toContain('| `mode` | `"a"`, `"b"` | `"a"` | Which \\| way. |');
    expect(reference).toContain('| `places.<key>.zone` | string |  | Its zone. |');
    expect(reference).toContain('Any other field is refused');
    expect(() => withReference('no markers', 'x')).toThrow(/markers/);
  });
});
