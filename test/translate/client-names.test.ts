import { describe, expect, it } from '@jest/globals';
import { parseConfig } from '../../src/config/migration-config.js';
import { openArchive } from '../../src/source/archive.js';
import { loadProfile } from '../../src/source/profile.js';
import { clientNames, namedClient } from '../../src/translate/client-names.js';
import { BASE, csv, writeZip } from '../support/exports.js';

/**
 * Issues 23 and 26: names are read from the export when a PDF or the report needs them, never
 * stored; the one reader both use builds each name as the patient's builder does.
 */
const context = {
  config: parseConfig({}),
  defaultTimeZone: 'Pacific/Auckland',
  exportDate: { year: 2024, month: 6, day: 1 },
};

async function namesOf(ids: string[]) {
  const zip = await writeZip({
    ...BASE,
    'Clients.csv': csv(
      'ClientId,Title,FirstName,PreferredName,MiddleName,LastName,DateOfBirth',
      'C1,Dr,Aroha,Ro,Mere,Parata,03/02/1980',
      'C2,,Jane,,,Citizen,',
      'C3,,Late,,,Born,01/01/2030',
      'C1,,Second,,,Copy,01/01/1990',
      'C4,,,,,NoFirst,01/01/1990',
      'C5,,,,,,01/01/1990',
    ),
  });
  const archive = await openArchive(zip);
  try {
    return await clientNames(archive, loadProfile(), ids, context);
  } finally {
    await archive.close();
  }
}

describe('names of client ids from the export', () => {
  it('keeps only the ids asked for, each named as Cliniko shows the patient, first row of an id winning', async () => {
    const names = await namesOf(['C1', 'C2', 'C9']);
    expect([...names.keys()].sort()).toEqual(['C1', 'C2']);
    expect(names.get('C1')).toEqual({ name: 'Dr Aroha (Ro) Mere Parata', dateOfBirth: '1980-02-03' });
    expect(names.get('C2')).toEqual({ name: 'Jane Citizen' });
  });

  it('leaves out a birth date the builder leaves out; names an invalid row from its name columns alone', async () => {
    const names = await namesOf(['C3', 'C4', 'C5']);
    expect(names.get('C3')).toEqual({ name: 'Late Born' });
    // no first name: invalid, yet the clinic must find them, so named without a birth date
    expect(names.get('C4')).toEqual({ name: 'NoFirst' });
    expect(names.has('C5')).toBe(false);
  });

  it('reads nothing for no ids, and shows a name beside its id', async () => {
    expect((await namesOf([])).size).toBe(0);
    expect(namedClient('C9', { name: 'Jane Citizen' })).toBe('Jane Citizen (C9)');
    expect(namedClient('C9', undefined)).toBe('C9');
  });
});
