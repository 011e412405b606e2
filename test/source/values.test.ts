import { describe, expect, it } from '@jest/globals';
import { localToUtc } from '../../src/core/time-zone.js';
import {
  DateOrderEvidence,
  parseBoolean,
  parseDate,
  parseDateTime,
  parseTime,
} from '../../src/core/values.js';

const utc = (date: string, time: string, zone: string) => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const [h, mi] = time.split(':').map(Number) as [number, number];
  const r = localToUtc({ year: y, month: m, day: d }, { hour: h, minute: mi, second: 0 }, zone);
  return { at: r.utc.toISOString().replace('.000', ''), adjustment: r.adjustment };
};

describe('dates', () => {
  it('reads dd/MM/yyyy, and ISO always', () => {
    expect(parseDate('05/11/2024', 'dmy')).toMatchObject({
      ok: true,
      value: { year: 2024, month: 11, day: 5 },
      first: 5,
    });
    expect(parseDate('5-1-2024', 'dmy')).toMatchObject({ ok: true, value: { year: 2024, month: 1, day: 5 } });
    expect(parseDate('2024-11-05', 'dmy')).toMatchObject({
      ok: true,
      value: { year: 2024, month: 11, day: 5 },
    });
  });

  it('rejects a month over 12 as a likely swap, impossible dates and short years', () => {
    const swapped = parseDate('11/25/2024', 'dmy');
    expect(swapped.ok).toBe(false);
    expect(swapped.ok ? '' : swapped.reason).toMatch(/swapped/);
    expect(parseDate('31/02/2024', 'dmy').ok).toBe(false);
    expect(parseDate('29/02/2023', 'dmy').ok).toBe(false);
    expect(parseDate('29/02/2024', 'dmy').ok).toBe(true);
    expect(parseDate('01/02/24', 'dmy').ok).toBe(false);
  });

  it('flags a date column whose days never go past 12', () => {
    const evidence = new DateOrderEvidence();
    for (const d of ['01/02/2024', '12/03/2024'])
      evidence.observe('A.csv', 'StartDate', parseDate(d, 'dmy').first);
    for (const d of ['01/02/2024', '25/03/2024'])
      evidence.observe('B.csv', 'StartDate', parseDate(d, 'dmy').first);
    expect(evidence.ambiguous()).toEqual([{ file: 'A.csv', column: 'StartDate', values: 2 }]);
  });
});

describe('times', () => {
  it('reads 24-hour and 12-hour clocks', () => {
    expect(parseTime('14:05')).toMatchObject({ ok: true, value: { hour: 14, minute: 5 } });
    expect(parseTime('9:30 AM')).toMatchObject({ ok: true, value: { hour: 9, minute: 30 } });
    expect(parseTime('12:15 pm')).toMatchObject({ ok: true, value: { hour: 12, minute: 15 } });
    expect(parseTime('12:15 AM')).toMatchObject({ ok: true, value: { hour: 0, minute: 15 } });
    expect(parseTime('13:00 PM').ok).toBe(false);
    expect(parseTime('25:00').ok).toBe(false);
    expect(parseDateTime('05/11/2024 14:30:15', 'dmy')).toMatchObject({
      ok: true,
      value: { date: { day: 5 }, time: { hour: 14, second: 15 } },
    });
  });

  it('reads the booleans of the profile and treats empty as unknown', () => {
    const words = { true: ['y', 'yes', 'true', '1'], false: ['n', 'no', 'false', '0'] };
    expect(parseBoolean('Yes', words)).toEqual({ ok: true, value: true });
    expect(parseBoolean('0', words)).toEqual({ ok: true, value: false });
    expect(parseBoolean('', words)).toEqual({ ok: true, value: undefined });
    expect(parseBoolean('maybe', words).ok).toBe(false);
  });
});

describe('local time to UTC', () => {
  it('converts ordinary times with the zone offset of that date', () => {
    expect(utc('2024-01-15', '09:00', 'Pacific/Auckland')).toEqual({
      at: '2024-01-14T20:00:00Z',
      adjustment: undefined,
    });
    expect(utc('2024-07-15', '09:00', 'Pacific/Auckland')).toEqual({
      at: '2024-07-14T21:00:00Z',
      adjustment: undefined,
    });
    expect(utc('2024-07-15', '09:00', 'Europe/London')).toEqual({
      at: '2024-07-15T08:00:00Z',
      adjustment: undefined,
    });
  });

  it('moves a spring-forward gap time later by the gap, in two zones', () => {
    expect(utc('2024-09-29', '02:30', 'Pacific/Auckland')).toEqual({
      at: '2024-09-28T14:30:00Z',
      adjustment: 'gap',
    });
    expect(utc('2024-10-06', '02:30', 'Australia/Sydney')).toEqual({
      at: '2024-10-05T16:30:00Z',
      adjustment: 'gap',
    });
  });

  it('takes the earlier instant of a fall-back overlap, in two zones', () => {
    expect(utc('2024-04-07', '02:30', 'Pacific/Auckland')).toEqual({
      at: '2024-04-06T13:30:00Z',
      adjustment: 'overlap',
    });
    expect(utc('2024-04-07', '02:30', 'Australia/Sydney')).toEqual({
      at: '2024-04-06T15:30:00Z',
      adjustment: 'overlap',
    });
  });
});
