import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { idFromLink } from '../../src/cliniko/schemas.js';
import { exportSuite, where } from '../support/cases.js';
import { damagedSeed, JUNK_FILES, NAMED, writeDamagedZip } from '../support/damaged-export.js';

/**
 * Issue 25 beyond its cases: every kind of damage injected into several columns and tables of one
 * export (`test/support/damaged-export.ts`), zipped again on a Mac and on Windows. Run dry, then
 * live: every damaged cell is named in the report, nothing is stored wrong (read back through the
 * API), and the dry run predicted the live run.
 */
const vitest = { describe, it, beforeAll, afterAll, expect };
const digits = (n: { phone_type?: string | null; number?: string | null }) =>
  `${n.phone_type} ${(n.number ?? '').replace(/\D/g, '')}`;

exportSuite(
  'damage-kinds',
  async () => ({ zip: await writeDamagedZip(), seed: damagedSeed() }),
  (get) => {
    it('is not refused for what the operating systems added: those files are counted', () => {
      const { live } = get();
      const junk = live.report.problems.filter((p) => p.code === 'OS_FILES_IGNORED');
      expect(junk.map((p) => [p.severity, p.message.startsWith(`${JUNK_FILES} `)])).toEqual([['info', true]]);
    });

    it('names every damaged cell at its file, row and field', () => {
      const { live } = get();
      const places = new Set(live.report.problems.map((p) => `${p.file}:${p.row}:${p.field}:${p.code}`));
      expect(NAMED.filter((cell) => !places.has(cell))).toEqual([]);
      // the dry run names the same cells at the same severity
      const named = (r: typeof live) => r.report.problems.map(where).sort();
      expect(named(get().dry)).toEqual(named(live));
    });

    it('stores each value as meant: cleaned, the first of several, each phone number on its own', async () => {
      const { client } = get();
      const patients = new Map((await client.listPatients()).map((p) => [p.old_reference_id, p]));
      expect([...patients.keys()].sort()).toEqual(['C1', 'C2', 'C3']);
      const view = (ref: string) => {
        const p = patients.get(ref) as Record<string, unknown> & {
          patient_phone_numbers?: { phone_type?: string | null; number?: string | null }[] | null;
        };
        return {
          name: `${p.first_name} ${p.last_name}`,
          email: p.email,
          occupation: p.occupation ?? null,
          born: p.date_of_birth ?? null,
          phones: (p.patient_phone_numbers ?? []).map(digits).sort(),
        };
      };
      expect(view('C1')).toEqual({
        name: 'Aroha Parata',
        email: 'aroha@example.com',
        occupation: 'Teacher',
        born: '1964-10-23',
        phones: ['Home 093794321', 'Mobile 021781300'],
      });
      expect(view('C2')).toEqual({
        name: 'Tama Walker',
        email: 'tama@example.com',
        occupation: 'Nurse',
        born: '1978-07-16',
        phones: ['Mobile 0215559876', 'Mobile 0275551234', 'Work 045551000'],
      });
      expect(view('C3')).toEqual({
        name: 'Mere Tane',
        email: 'mere@example.com',
        occupation: null,
        born: '1990-02-02',
        phones: ['Mobile 6421781302'],
      });
      const [referrer, ...others] = await client.listContacts();
      expect(others).toEqual([]);
      expect(referrer?.email).toBe('drsmith@example.com');
      expect((referrer?.phone_numbers ?? []).map(digits).sort()).toEqual([
        'Fax 095550002',
        'Work 095550000',
        'Work 095550001',
      ]);
    });

    it("keys cleaned alike in every table: C3's appointment reaches her", async () => {
      const { client, live } = get();
      expect(live.report.entities.appointments).toMatchObject({ source: 1, created: 1 });
      const c3 = (await client.listPatients()).find((p) => p.old_reference_id === 'C3');
      const [appointment] = await client.listIndividualAppointments();
      expect(idFromLink(appointment?.patient)).toBe(String(c3?.id));
    });

    it("attaches each patient's own file and none where the path could mean two files", async () => {
      const { client, live, sandbox } = get();
      expect(live.report.entities.fileUploads).toMatchObject({ source: 3, created: 2, invalid: 1 });
      expect(live.report.entities.letters).toMatchObject({ source: 3, created: 2, invalid: 1 });
      const refOf = new Map((await client.listPatients()).map((p) => [String(p.id), p.old_reference_id]));
      // the fixture's documents, told by their marker line (notes PDFs are attachments too)
      const held = sandbox.state
        .all('patient_attachments')
        .map((a) => ({
          ref: refOf.get(String(a.patient_id)),
          text: readFileSync(String(a.storage_path), 'latin1'),
        }))
        .filter((a) => a.text.length < 100)
        .map((a) => `${a.ref} ${a.text.split('\n')[1]}`)
        .sort();
      expect(held).toEqual([
        'C1 %knee-of-C1',
        'C1 %referral-of-C1',
        'C2 %shoulder-of-C2',
        'C3 %discharge-of-C3',
      ]);
    });
  },
  vitest,
);
