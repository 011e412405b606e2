import { describe, expect, it } from '@jest/globals';
import { DISPLAY_NAMES, displayName, ENTITY_KEYS, SUPPORT_ENTITIES } from '../../src/core/entities.js';
import { type Problem, sortProblems } from '../../src/core/problem.js';
import { clinicTime, zoneAbbreviation } from '../../src/core/time-zone.js';

describe('times as a person at the clinic reads them', () => {
  it('writes an instant in the clinic zone, naming the zone and its daylight-saving abbreviation', () => {
    // 01:05 UTC on 4 Dec is 14:05 in Auckland's summer (UTC+13)
    expect(clinicTime('2026-12-04T01:05:00.000Z', 'Pacific/Auckland')).toBe(
      '4 Dec 2026, 14:05 NZDT (Pacific/Auckland)',
    );
    // the same zone in its winter, from a Date
    expect(clinicTime(new Date('2024-05-19T11:30:00Z'), 'Pacific/Auckland')).toBe(
      '19 May 2024, 23:30 NZST (Pacific/Auckland)',
    );
    expect(clinicTime('2026-07-01T00:00:00Z', 'Australia/Sydney')).toBe(
      '1 Jul 2026, 10:00 AEST (Australia/Sydney)',
    );
  });

  it('names an offset where no English locale has an abbreviation for the zone', () => {
    expect(zoneAbbreviation('Asia/Kolkata', new Date('2026-01-01T00:00:00Z'))).toMatch(/^(IST|UTC\+5:30)$/);
    expect(clinicTime('2026-01-01T00:00:00Z', 'UTC')).toBe('1 Jan 2026, 00:00 UTC (UTC)');
  });

  it('returns what it cannot read as given rather than inventing a time', () => {
    expect(clinicTime('not a time', 'Pacific/Auckland')).toBe('not a time');
    expect(clinicTime('2026-12-04T01:05:00Z', 'Not/AZone')).toBe('2026-12-04T01:05:00Z');
  });
});

describe('display names of entities', () => {
  it('gives every counted entity a name with no code in it', () => {
    for (const key of [...ENTITY_KEYS, ...SUPPORT_ENTITIES]) {
      expect(DISPLAY_NAMES[key]).toMatch(/^[A-Z][a-z]+( [a-z]+|\s\(PDF\))*$/);
      expect(displayName(key)).toBe(DISPLAY_NAMES[key]);
    }
    expect(displayName('migratedAppointmentType')).toBe('Migrated appointment type');
    expect(displayName('appointmentTypes')).toBe('Appointment types');
  });

  it('spells out a key it does not know from its words', () => {
    expect(displayName('invoiceItems')).toBe('Invoice items');
    expect(displayName('gift_vouchers')).toBe('Gift vouchers');
  });
});

describe('problems in the order a person works through them', () => {
  const p = (severity: Problem['severity'], file: string, row: number, code = 'X'): Problem => ({
    entity: 'patients',
    sourceId: `${file}:${row}`,
    file,
    row,
    field: '',
    code,
    severity,
    message: code,
  });

  it('sorts by severity (error, warning, info), then file, then row, keeping found order for ties', () => {
    const found = [
      p('info', 'Clients.csv', 1),
      p('warning', 'Appointments.csv', 9),
      p('error', 'Clients.csv', 12),
      p('warning', 'Appointments.csv', 2, 'first'),
      p('error', 'Appointments.csv', 40),
      p('error', 'Clients.csv', 3),
      p('warning', 'Appointments.csv', 2, 'second'),
      p('error', '', 0),
    ];
    const sorted = sortProblems(found);
    expect(
      sorted.map((x) => `${x.severity} ${x.file}:${x.row}${x.code === 'X' ? '' : ` ${x.code}`}`),
    ).toEqual([
      'error :0',
      'error Appointments.csv:40',
      'error Clients.csv:3',
      'error Clients.csv:12',
      'warning Appointments.csv:2 first',
      'warning Appointments.csv:2 second',
      'warning Appointments.csv:9',
      'info Clients.csv:1',
    ]);
    // the input is left as it was found
    expect(found[0]?.severity).toBe('info');
  });
});
