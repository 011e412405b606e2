import { describe, expect, it } from '@jest/globals';
import { ArchiveError, openArchive, safeEntryPath } from '../../src/source/archive.js';
import { readTable } from '../../src/source/csv.js';
import { detectEncoding } from '../../src/source/encoding.js';
import { loadProfile, mapHeader, type TableSpec } from '../../src/source/profile.js';
import { csv, writeFolder, writeZip } from '../support/exports.js';

const profile = loadProfile();
const spec = (name: string) => profile.tables.find((t) => t.name === name) as TableSpec;

async function rows(files: Record<string, string | Buffer>, file: string, table: string, zip = false) {
  const archive = await openArchive(zip ? await writeZip(files) : await writeFolder(files));
  const out: { row: number; values: Record<string, string>; extra: { header: string; value: string }[] }[] =
    [];
  let encoding = '';
  let missing: readonly string[] = [];
  for await (const r of readTable(archive, file, spec(table), (h) => {
    encoding = h.encoding;
    missing = h.mapping.missingRequired;
  })) {
    out.push({ row: r.row, values: { ...r.values }, extra: [...r.extra] });
  }
  await archive.close();
  return { rows: out, encoding, missing };
}

describe('encodings', () => {
  it('reads Windows-1252 without mojibake', async () => {
    const bytes = Buffer.concat([
      Buffer.from('ReferrerId,LastName,FirstName\r\nR1,O'),
      Buffer.from([0x92]),
      Buffer.from('Brien,Ren'),
      Buffer.from([0xe9]),
      Buffer.from('e\r\n'),
    ]);
    const { rows: r, encoding } = await rows({ 'Referrers.csv': bytes }, 'Referrers.csv', 'referrers');
    expect(encoding).toBe('utf-8+windows-1252');
    expect(r[0]?.values).toMatchObject({ LastName: 'O’Brien', FirstName: 'Renée' });
  });

  it('reads UTF-8 with and without a BOM, macrons intact, and drops the BOM from the header', async () => {
    const body = 'ClientId,FirstName,LastName\r\nC1,Tāne,Ngāti\r\n';
    for (const content of [
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(body)]),
      Buffer.from(body),
    ]) {
      const { rows: r, encoding } = await rows({ 'Clients.csv': content }, 'Clients.csv', 'clients');
      expect(encoding).toBe('utf-8');
      expect(r[0]?.values).toMatchObject({ ClientId: 'C1', FirstName: 'Tāne', LastName: 'Ngāti' });
    }
  });

  it('looks at the whole file: one Windows-1252 byte far down decides', async () => {
    const many = 'x'.repeat(200_000);
    const stream = (
      await openArchive(
        await writeFolder({
          'a.csv': Buffer.concat([Buffer.from(`h\r\n${many}\r\n`), Buffer.from([0x93, 0x61, 0x94])]),
        }),
      )
    ).open('a.csv');
    expect((await detectEncoding(await stream)).encoding).toBe('utf-8+windows-1252');
  });
});

describe('CSV records', () => {
  it('numbers records, not lines: quoted fields span lines, quotes double, commas stay', async () => {
    const content = csv(
      'NoteId,ClientId,NoteDate,Body',
      'N1,C1,01/02/2024,"Line one',
      'line two, with comma',
      'and ""quoted"" words"',
      'N2,C1,02/02/2024,plain',
    );
    const { rows: r } = await rows({ 'ClinicalNotes.csv': content }, 'ClinicalNotes.csv', 'clinicalNotes');
    expect(r.map((x) => x.row)).toEqual([2, 3]);
    expect(r[0]?.extra).toEqual([
      { header: 'Body', value: 'Line one\r\nline two, with comma\r\nand "quoted" words' },
    ]);
  });

  it('matches headers across case, spaces, underscores and order, and by alias', async () => {
    const content = csv(
      'start date, CLIENT_ID ,Appointment ID,practitionerid,Start Time',
      '01/02/2024,C1,A1,P1,9:30 AM',
    );
    const { rows: r, missing } = await rows(
      { 'appointments.csv': content },
      'appointments.csv',
      'appointments',
    );
    expect(missing).toEqual([]);
    expect(r[0]?.values).toMatchObject({
      AppointmentId: 'A1',
      ClientId: 'C1',
      PractitionerId: 'P1',
      StartDate: '01/02/2024',
      StartTime: '9:30 AM',
    });
  });

  it('names required columns a file lacks', () => {
    const mapping = mapHeader(['ClientId', 'FirstName'], spec('clients'));
    expect(mapping.missingRequired).toEqual(['LastName']);
  });

  it('finds tables inside one top-level folder, case-insensitively, in a zip', async () => {
    const { rows: r } = await rows(
      { 'Export 2024/clients.CSV': csv('ClientId,FirstName,LastName', 'C1,A,B') },
      'Clients.csv',
      'clients',
      true,
    );
    expect(r).toHaveLength(1);
  });
});

describe('archive safety', () => {
  it('never opens entries whose path escapes the archive, and reads the rest', async () => {
    const zip = await writeZip({
      '../evil.csv': 'x',
      '/etc/passwd': 'x',
      'a\\..\\..\\b.csv': 'x',
      'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,A,B'),
    });
    const archive = await openArchive(zip);
    expect(archive.rejected.map((r) => r.rawPath).sort()).toEqual([
      '../evil.csv',
      '/etc/passwd',
      'a/../../b.csv',
    ]);
    expect(archive.entries.map((e) => e.path)).toEqual(['Clients.csv']);
    await archive.close();
  });

  it('classifies paths', () => {
    expect(safeEntryPath('Letters\\a.pdf')).toBe('Letters/a.pdf');
    expect(safeEntryPath('./Letters//a.pdf')).toBe('Letters/a.pdf');
    expect(safeEntryPath('..\\x')).toBeUndefined();
    expect(safeEntryPath('C:\\x')).toBeUndefined();
  });

  it('refuses a zip bomb with a clear message', async () => {
    const zip = await writeZip({ 'Clients.csv': Buffer.alloc(20 * 1024 * 1024, 0x20) });
    await expect(openArchive(zip)).rejects.toThrow(ArchiveError);
    await expect(openArchive(zip)).rejects.toThrow(/zip bomb/);
    // sizes as a person reads them: 20 MB from a few KB, not a count of bytes
    await expect(openArchive(zip)).rejects.toThrow(/\(20 MB from \d+(\.\d)? KB\)/);
  });

  it('names the expanded size and the limit of an export too large to unpack, in MB and GB', async () => {
    const zip = await writeZip({ 'Clients.csv': Buffer.alloc(3 * 1024 * 1024, 0x20) });
    await expect(
      openArchive(zip, { maxTotalBytes: 2.5 * 1024 ** 2, maxRatio: 1e9, ratioFloorBytes: 0 }),
    ).rejects.toThrow(/would expand to 3 MB, more than the 2.5 MB allowed\.$/);
  });

  it('says what is wrong with a file that is not a zip', async () => {
    const folder = await writeFolder({ 'x.zip': 'not a zip' });
    await expect(openArchive(`${folder}/x.zip`)).rejects.toThrow(/not a readable zip/);
    await expect(openArchive(`${folder}/nope.zip`)).rejects.toThrow(/no such file/);
  });
});
