import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { projectionTable, typicalClinic, withTable } from '../../tools/projection-table.js';

describe("docs/DEPLOY-AWS.md's table of what a clinic of each size should expect", () => {
  const readme = readFileSync(new URL('../../docs/DEPLOY-AWS.md', import.meta.url), 'utf8');

  it('is the one the projection makes today (regenerate: npm run projection -- --write)', () => {
    expect(withTable(readme, projectionTable())).toBe(readme);
  });

  it("describes the issue's clinic: 15 appointments a patient", () => {
    expect(typicalClinic(10_000).planned.appointments.planned).toBe(150_000);
    expect(() => withTable('no markers', 'x')).toThrow(/markers/);
  });
});
