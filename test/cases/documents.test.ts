import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { caseSuite } from '../support/cases.js';

/**
 * The real-world cases about documents (`test/fixtures/cases/`): file names as archives and
 * operating systems store them, and empty files. What landed is read back through the API.
 */
const vitest = { describe, it, beforeAll, afterAll, expect };

caseSuite(
  '05-nfd-attachment-filename',
  (get) => {
    it('finds the file stored decomposed (NFD) and uploads it as the patient attachment', async () => {
      const { client, live } = get();
      expect(live.report.problems.filter((p) => p.code === 'FILE_MISSING')).toEqual([]);
      expect(live.report.entities.fileUploads).toMatchObject({ source: 1, created: 1 });
      const attachments = await client.listPatientAttachments();
      expect(attachments).toHaveLength(1);
      expect(attachments[0]?.filename?.normalize('NFC')).toBe('Renée consent.pdf');
      expect(attachments[0]?.size).toBe(202);
    });
  },
  vitest,
);

caseSuite(
  '11-attachment-filename-special-chars',
  (get) => {
    it('uploads every file under its own name, whatever characters it holds', async () => {
      const { client, live } = get();
      expect(live.report.entities.fileUploads).toMatchObject({ source: 4, created: 4, failed: 0 });
      const names = (await client.listPatientAttachments()).map((a) => a.filename).sort();
      expect(names).toEqual(
        [
          'scan #1 100% (copy)+final.pdf',
          'X-ray & report; 2024?.pdf',
          'Mārama MRI ~v2 [L knee].pdf',
          'noextension',
        ].sort(),
      );
    });
  },
  vitest,
);

caseSuite(
  '17-zero-byte-document',
  (get) => {
    it('reports empty files at their rows and never uploads them; the other file is uploaded', async () => {
      const { client, live } = get();
      const empty = live.report.problems
        .filter((p) => p.code === 'FILE_EMPTY')
        .map((p) => `${p.file}:${p.row}:${p.field}`)
        .sort();
      expect(empty).toEqual(['Letters.csv:2:FilePath', 'Uploads.csv:2:FilePath']);
      expect(live.report.entities.letters).toMatchObject({ source: 1, invalid: 1, created: 0 });
      expect(live.report.entities.fileUploads).toMatchObject({ source: 2, invalid: 1, created: 1 });
      const attachments = await client.listPatientAttachments();
      expect(attachments.map((a) => [a.filename, a.size])).toEqual([['ok.pdf', 197]]);
    });
  },
  vitest,
);

caseSuite(
  '26-case-colliding-document-paths',
  (get) => {
    it('gives each patient her own file: an exact path wins, a lone case-insensitive match is found', async () => {
      const { client, live, sandbox } = get();
      expect(live.report.problems.filter((p) => p.severity === 'error')).toEqual([]);
      expect(live.report.entities.fileUploads).toMatchObject({ source: 3, created: 3, failed: 0 });
      const refOf = new Map((await client.listPatients()).map((p) => [String(p.id), p.old_reference_id]));
      const { readFileSync } = await import('node:fs');
      const held = sandbox.state
        .all('patient_attachments')
        .map(
          (a) =>
            `${refOf.get(String(a.patient_id))} ${readFileSync(String(a.storage_path), 'utf8').match(/%([\w-]+)\n%%EOF/)?.[1]}`,
        )
        .sort();
      expect(held).toEqual([
        'C1 knee-scan-of-C1-Aroha',
        'C1 referral-C1',
        'C2 shoulder-scan-of-C2-Tama-different-bytes',
      ]);
    });
  },
  vitest,
);
