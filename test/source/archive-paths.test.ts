import { describe, expect, it } from '@jest/globals';
import { EntryIndex, isOsJunk, openArchive } from '../../src/source/archive.js';
import { archiveProblems } from '../../src/source/export-checks.js';
import { loadProfile } from '../../src/source/profile.js';
import { BASE, csv, writeFolder, writeZip } from '../support/exports.js';

/**
 * Issue 25: a path names a file exactly, or loosely only when nothing else could be meant; and the
 * files operating systems add to a zip or folder are no part of the export, wherever they sit.
 */
const read = async (archive: Awaited<ReturnType<typeof openArchive>>, path: string) => {
  const chunks: Buffer[] = [];
  for await (const c of await archive.open(path)) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

describe('document paths', () => {
  const index = new EntryIndex([
    { path: 'Uploads/Scan.pdf', size: 1 },
    { path: 'Uploads/scan.pdf', size: 2 },
    { path: 'Letters/Referral.PDF', size: 3 },
    { path: 'Letters/Rene\u0301e.pdf', size: 4 },
    { path: 'Letters/MRI.pdf', size: 5 },
    { path: 'Letters/mri.PDF', size: 6 },
  ]);

  it('takes an exact match over loose ones, and a loose one only when it is the only candidate', () => {
    expect(index.match('Uploads/Scan.pdf')).toMatchObject({ kind: 'found', entry: { size: 1 } });
    expect(index.match('Uploads/scan.pdf')).toMatchObject({ kind: 'found', entry: { size: 2 } });
    expect(index.match('Uploads\\scan.pdf')).toMatchObject({ kind: 'found', entry: { size: 2 } });
    expect(index.match('letters/referral.pdf')).toMatchObject({ kind: 'found', entry: { size: 3 } });
    expect(index.match('Letters/Renée.PDF')).toMatchObject({ kind: 'found', entry: { size: 4 } });
    expect(index.match('Letters/nothing.pdf')).toEqual({ kind: 'missing' });
  });

  it('never guesses between files that differ only in case or normalisation', () => {
    expect(index.match('UPLOADS/SCAN.PDF')).toEqual({
      kind: 'ambiguous',
      candidates: ['Uploads/Scan.pdf', 'Uploads/scan.pdf'],
    });
    expect(index.match('Letters/Mri.pdf')).toMatchObject({ kind: 'ambiguous' });
    expect(index.find('Letters/Mri.pdf')).toBeUndefined();
    const nfc = new EntryIndex([
      { path: 'Uploads/Ren\u00e9e.pdf', size: 1 },
      { path: 'Uploads/Rene\u0301e.pdf', size: 2 },
    ]);
    expect(nfc.match('Uploads/Ren\u00e9e.pdf')).toMatchObject({ kind: 'found', entry: { size: 1 } });
    expect(nfc.match('uploads/RENÉE.pdf')).toMatchObject({ kind: 'ambiguous' });
  });

  it('opens each of two case-colliding files with its own bytes, from a zip and from a folder', async () => {
    const files = {
      'Export/Clients.csv': csv('ClientId,FirstName,LastName', 'C1,A,B'),
      'Export/Uploads/Scan.pdf': 'knee',
      'Export/Uploads/scan.pdf': 'shoulder',
    };
    for (const path of [await writeZip(files), await writeFolder(files)]) {
      const archive = await openArchive(path);
      expect(await read(archive, 'Uploads/Scan.pdf')).toBe('knee');
      expect(await read(archive, 'Uploads/scan.pdf')).toBe('shoulder');
      expect(archive.match('uploads/SCAN.pdf').kind).toBe('ambiguous');
      await archive.close();
    }
  });
});

describe('files operating systems add', () => {
  it('knows them wherever they sit, and nothing else', () => {
    for (const junk of [
      '__MACOSX/Export/._Clients.csv',
      'Export/__MACOSX/x',
      'Export/.DS_Store',
      'Export/Uploads/.DS_Store',
      '._Export',
      'Export/Uploads/Thumbs.db',
      'Export/Letters/desktop.ini',
      'Export/DESKTOP.INI',
      'Export/.Spotlight-V100/store.db',
      '$RECYCLE.BIN/x.pdf',
    ])
      expect([junk, isOsJunk(junk)]).toEqual([junk, true]);
    for (const real of ['Export/Clients.csv', 'Export/Uploads/_scan.pdf', 'Export/Uploads/thumbs.pdf'])
      expect([real, isOsJunk(real)]).toEqual([real, false]);
  });

  it('ignores them in a zip re-made on a Mac or Windows, finds the export root, and counts them', async () => {
    const files = {
      ...Object.fromEntries(Object.entries(BASE).map(([k, v]) => [`GensolveExport/${k}`, v])),
      'GensolveExport/Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Aroha,Parata'),
      'GensolveExport/.DS_Store': Buffer.from([0, 0, 0, 1]),
      'GensolveExport/Uploads/Thumbs.db': 'x',
      'GensolveExport/Letters/desktop.ini': '[.ShellClassInfo]',
      '__MACOSX/GensolveExport/._Clients.csv': 'resource fork',
      '__MACOSX/GensolveExport/Uploads/._scan.pdf': 'resource fork',
      '.DS_Store': 'x',
    };
    for (const path of [await writeZip(files), await writeFolder(files)]) {
      const archive = await openArchive(path);
      expect(archive.entries.map((e) => e.path).sort()).toEqual(
        ['AppointmentTypes.csv', 'Clients.csv', 'Locations.csv', 'Practitioners.csv'].sort(),
      );
      expect(archive.ignored).toHaveLength(6);
      const counted = archiveProblems(archive, loadProfile()).filter((p) => p.code === 'OS_FILES_IGNORED');
      expect(counted).toHaveLength(1);
      expect(counted[0]?.severity).toBe('info');
      expect(counted[0]?.message).toMatch(/^6 /);
      await archive.close();
    }
  });
});
