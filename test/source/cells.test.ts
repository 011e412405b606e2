import { describe, expect, it } from '@jest/globals';
import { cleanText, parseDate, parsePhoneCell, severalValues } from '../../src/core/values.js';
import { openArchive } from '../../src/source/archive.js';
import { readTable, type SourceRow } from '../../src/source/csv.js';
import { loadProfile } from '../../src/source/profile.js';
import { csv, writeFolder } from '../support/exports.js';

/** Issue 25: one cleaning of every cell, and one reading of cells that hold several values. */
describe('the one cleaning of text cells', () => {
  it('removes what nobody sees and makes Unicode spaces plain, saying which characters', () => {
    expect(cleanText('aroha@example.com\u200B')).toMatchObject({ value: 'aroha@example.com' });
    expect(cleanText('aroha@example.com\u200B').removed).toHaveLength(1);
    expect(cleanText('\uFEFFC1')).toMatchObject({ value: 'C1' });
    expect(cleanText('Jo\u00ADhn \u202EParata\u202C')).toMatchObject({ value: 'John Parata' });
    expect(cleanText('\u200E\u200F\u2066x\u2069\u2060\u180E')).toMatchObject({ value: 'x' });
    expect(cleanText('021\u00A0781\u202F300\u3000')).toEqual({
      value: '021 781 300',
      removed: [],
      replaced: expect.arrayContaining([
        expect.stringMatching(/^U\+00A0/),
        expect.stringMatching(/^U\+202F/),
      ]),
    });
    expect(cleanText('line one\u2028line two\u000Bthree').value).toBe('line one\nline two\nthree');
    expect(cleanText('bell\u0007 and escape\u001B').value).toBe('bell and escape');
    expect(cleanText('\u3164').value).toBe('');
  });

  it('keeps what carries meaning: emoji sequences, joiners of scripts that spell with them, line breaks', () => {
    for (const kept of [
      'Mia 🌸',
      '👩\u200D⚕\uFE0F nurse',
      '👍🏽',
      '🏴\u{E0067}\u{E0062}\u{E0073}\u{E0063}\u{E0074}\u{E007F}',
      'می\u200Cخواهم',
      'क्\u200Dष',
      'Note\r\nline 2\ttabbed',
      'Mārama Ngāti',
    ])
      expect(cleanText(kept)).toEqual({ value: kept, removed: [], replaced: [] });
    // a joiner between Latin letters spells nothing
    expect(cleanText('Jo\u200Dhn').value).toBe('John');
    // NUL is reported by the row reader as a character Cliniko cannot store
    expect(cleanText('a\u0000b').value).toBe('a\u0000b');
  });
});

describe('cells holding several values', () => {
  it('reads each number of a phone cell on its own, never two run together', () => {
    expect(parsePhoneCell('021 781 300 / 027 555 1234').numbers).toEqual(['021 781 300', '027 555 1234']);
    expect(parsePhoneCell('09 379 4322 or 09 379 4323').numbers).toEqual(['09 379 4322', '09 379 4323']);
    expect(parsePhoneCell('09 555 0000; 09 555 0001, 021 555 0002').numbers).toHaveLength(3);
    expect(parsePhoneCell('021 555 0101 & 021 555 0101').numbers).toEqual(['021 555 0101']);
    // two numbers with no separator have more digits than any one number
    expect(parsePhoneCell('021 781 300 027 555 1234')).toMatchObject({
      numbers: [],
      unreadable: [expect.any(String)],
    });
    expect(parsePhoneCell('+61 412 345 678 / 4322')).toMatchObject({
      numbers: ['+61 412 345 678'],
      unreadable: ['4322'],
    });
  });

  it('parts an extension and words from the number', () => {
    for (const [cell, number, ext] of [
      ['09 379 4321 ext 204', '09 379 4321', '204'],
      ['09 379 4321 Ext. 204', '09 379 4321', '204'],
      ['+852 9999 9999 x1234', '+852 9999 9999', '1234'],
      ['(09) 379-4321 #12', '(09) 379-4321', '12'],
      ['09 379 4321, extension 7', '09 379 4321', '7'],
    ] as const)
      expect(parsePhoneCell(cell)).toMatchObject({ numbers: [number], extensions: [ext] });
    expect(parsePhoneCell('021 781 301 (after 5pm)')).toMatchObject({
      numbers: ['021 781 301'],
      remarks: ['after 5pm'],
    });
    expect(parsePhoneCell('Mob: 021 555 0101')).toMatchObject({
      numbers: ['021 555 0101'],
      remarks: ['Mob'],
    });
    expect(parsePhoneCell('+64 (0)21 781 302')).toEqual({
      numbers: ['+64 (0)21 781 302'],
      extensions: [],
      remarks: [],
      unreadable: [],
    });
    expect(parsePhoneCell('0800 FLOWERS').numbers).toEqual([]);
  });

  it('splits other kinds only between values that are each valid', () => {
    const isDate = (x: string) => parseDate(x, 'dmy').ok;
    expect(severalValues('23/10/1964 or 24/10/1964', isDate, { slash: false })).toEqual([
      '23/10/1964',
      '24/10/1964',
    ]);
    expect(severalValues('23/10/1964', isDate, { slash: false })).toBeUndefined();
    expect(severalValues('23/10/1964 or soon', isDate, { slash: false })).toBeUndefined();
  });
});

describe('the reader', () => {
  const rowsOf = async (files: Record<string, string>, file: string, table: string) => {
    const archive = await openArchive(await writeFolder(files));
    const spec = loadProfile().tables.find((t) => t.name === table);
    if (!spec) throw new Error(table);
    const rows: SourceRow[] = [];
    for await (const row of readTable(archive, file, spec, () => undefined)) rows.push(row);
    await archive.close();
    return rows;
  };

  it('cleans every cell, keys too, and says which fields it changed', async () => {
    const [row] = await rowsOf(
      {
        'Appointments.csv': csv(
          'AppointmentId,ClientId\u200B,PractitionerId,StartDate,StartTime,Notes',
          'A1\u2060,C1\u200B,P1,17/03/2025,10:00,re\u00ADview\u00A0done',
        ),
      },
      'Appointments.csv',
      'appointments',
    );
    expect(row?.values).toMatchObject({ AppointmentId: 'A1', ClientId: 'C1', Notes: 'review done' });
    expect(row?.cleanedFields?.map((c) => [c.field, c.removed.length > 0, c.replaced.length > 0])).toEqual([
      ['AppointmentId', true, false],
      ['ClientId', true, false],
      ['Notes', true, true],
    ]);
  });

  it('keeps the copy of a column named twice (an alias counts) that holds a value, and names a row whose copies differ', async () => {
    const rows = await rowsOf(
      {
        'Referrers.csv': csv(
          'ReferrerId,LastName,Email,Phone,E-mail,Phone',
          'R1,Smith,,09 555 0000,smith@example.com,',
          'R2,Jones,jones@example.com,09 555 0001,jones@example.org,09 555 0001',
        ),
      },
      'Referrers.csv',
      'referrers',
    );
    expect(rows.map((r) => [r.values.Email, r.values.Phone])).toEqual([
      ['smith@example.com', '09 555 0000'],
      ['jones@example.com', '09 555 0001'],
    ]);
    expect(rows[0]?.columnConflicts).toBeUndefined();
    expect(rows[1]?.columnConflicts).toEqual([
      { field: 'Email', kept: 'jones@example.com', others: ['jones@example.org'] },
    ]);
  });

  it('merges note sections named twice instead of losing one', async () => {
    const rows = await rowsOf(
      {
        'ClinicalNotes.csv': csv(
          'NoteId,ClientId,NoteDate,Subjective,Plan,Subjective',
          'N1,C1,17/03/2025,,Review,Sore knee',
        ),
      },
      'ClinicalNotes.csv',
      'clinicalNotes',
    );
    expect(rows[0]?.extra).toEqual([
      { header: 'Subjective', value: 'Sore knee' },
      { header: 'Plan', value: 'Review' },
    ]);
  });
});
