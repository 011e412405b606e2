import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../src/config/migration-config.js';
import { DateOrderEvidence } from '../../src/core/values.js';
import type { SourceRow } from '../../src/source/csv.js';
import { loadProfile } from '../../src/source/profile.js';
import { buildPatient } from '../../src/translate/patients.js';
import type { RowContext } from '../../src/translate/row-context.js';

/**
 * Issue 23: a row with more fields than its header was migrated as a patient (a million fields
 * against a 29-column header). Extra fields mean some text sits past its column: the row is held
 * back, named by file, row and both counts. Fewer fields only leave the last columns empty.
 */
const ctx: RowContext = {
  file: 'Clients.csv',
  entity: 'patients',
  profile: loadProfile(),
  config: parseConfig({}),
  refs: {
    patient: () => undefined,
    contact: () => false,
    location: () => undefined,
    practitioner: () => undefined,
    appointmentType: () => false,
    defaultTimeZone: 'Pacific/Auckland',
    document: () => ({ kind: 'escapes' }),
  },
  evidence: new DateOrderEvidence(),
};

const row = (fields: number, header: number): SourceRow => ({
  row: 7,
  values: { ClientId: 'C1', FirstName: 'Aroha', LastName: 'Parata' },
  extra: [],
  ...(fields !== header ? { fieldCountMismatch: fields, headerFieldCount: header } : {}),
});

describe('a record whose field count differs from its header', () => {
  it('is invalid with more fields than the header, naming file, row and both counts', () => {
    const result = buildPatient(row(1_000_000, 29), ctx);
    expect(result.outcome).toBe('invalid');
    const problem = result.problems.find((p) => p.code === 'FIELD_COUNT');
    expect(problem).toMatchObject({ file: 'Clients.csv', row: 7, severity: 'error' });
    expect(problem?.message).toContain('1000000 fields where the header has 29');
  });

  it('is still migrated with fewer fields, with a warning', () => {
    const result = buildPatient(row(3, 29), ctx);
    expect(result.outcome).toBe('planned');
    expect(result.problems.find((p) => p.code === 'FIELD_COUNT')).toMatchObject({ severity: 'warning' });
  });

  it('is migrated when it matches its header', () => {
    const result = buildPatient(row(29, 29), ctx);
    expect(result.outcome).toBe('planned');
    expect(result.problems.some((p) => p.code === 'FIELD_COUNT')).toBe(false);
  });
});
