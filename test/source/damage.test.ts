import { describe, expect, it } from '@jest/globals';
import { parseDate } from '../../src/core/values.js';
import { entryKey } from '../../src/source/archive.js';
import { CsvRecordParser } from '../../src/source/csv-records.js';
import { MixedDecoder } from '../../src/source/encoding.js';
import { spreadsheetDamage } from '../../src/translate/builders.js';

/** Each kind of real-world damage beyond its case: other columns, other files, other splits. */
describe('kinds of damage', () => {
  it('decodes UTF-8 and Windows-1252 sequence by sequence, across chunk boundaries', () => {
    const bytes = Buffer.concat([
      Buffer.from('Mārama,', 'utf8'),
      Buffer.from([0x93, 0x51, 0x94, 0x2c, 0x80]),
      Buffer.from('🌸', 'utf8'),
    ]);
    for (let cut = 0; cut <= bytes.length; cut++) {
      const d = new MixedDecoder();
      expect(d.decode(bytes.subarray(0, cut)) + d.decode(bytes.subarray(cut)) + d.end()).toBe(
        'Mārama,“Q”,€🌸',
      );
    }
    // a byte Windows-1252 leaves undefined is never guessed
    expect(new MixedDecoder().decode(Buffer.from([0x41, 0x81]), true)).toBe('A\uFFFD');
  });

  it('keeps an unescaped quote as text and says which field; a quote never closed ends the file', () => {
    const records: { fields: string[]; stray: number[] }[] = [];
    const p = new CsvRecordParser();
    const emit = (r: { fields: string[]; strayQuoteFields: number[] }) =>
      records.push({ fields: r.fields, stray: r.strayQuoteFields });
    p.push('a,b\r\n"He said "hi" twice",x\r\n5\'10",', emit);
    p.push('"y"\n"open,z\nmore', emit);
    const rest = p.end(emit);
    expect(records).toEqual([
      { fields: ['a', 'b'], stray: [] },
      { fields: ['He said "hi" twice', 'x'], stray: [0] },
      { fields: ['5\'10"', 'y'], stray: [] },
    ]);
    expect(rest).toEqual({ line: 4, field: 0, lines: 2 });
  });

  it('reads the date of any date column whatever time follows, and refuses what is not a time', () => {
    expect(parseDate('02/02/2023 10:15', 'dmy')).toMatchObject({
      ok: true,
      value: { year: 2023, month: 2, day: 2 },
    });
    expect(parseDate('23/10/1964 12:00:00 AM', 'dmy')).toMatchObject({
      ok: true,
      value: { day: 23, month: 10 },
    });
    expect(parseDate('23/10/1964 00:00:00.000', 'dmy').ok).toBe(true);
    expect(parseDate('23/10/1964 lunch', 'dmy').ok).toBe(false);
  });

  it('knows numbers a spreadsheet damaged', () => {
    expect(spreadsheetDamage('6.42178E+10')).toMatch(/scientific/);
    expect(spreadsheetDamage('1010.0')).toMatch(/\.0/);
    expect(spreadsheetDamage('+64 21 781 300')).toBeUndefined();
    expect(spreadsheetDamage('021 555 0101')).toBeUndefined();
  });

  it('compares archive names after normalisation and case folding', () => {
    expect(entryKey('Uploads/Rene\u0301e.PDF')).toBe(entryKey('uploads/Renée.pdf'));
  });
});
