import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { caseSuite } from '../support/cases.js';
import { pdfPages, squeeze } from '../support/pdf-text.js';

/**
 * The real-world cases about patients, appointments and notes (`test/fixtures/cases/`, copied
 * from `../shared/cases/`): each asserts its right outcome (expected.md) on what landed in Cliniko,
 * read back through the API, and that the dry run predicted the live run.
 */
const vitest = { describe, it, beforeAll, afterAll, expect };

caseSuite(
  '02-emoji-in-name',
  (get) => {
    it('creates both patients and appointments, the emoji kept as written', async () => {
      const { client, live } = get();
      expect(live.report.entities.patients).toMatchObject({ source: 2, created: 2 });
      expect(live.report.entities.appointments).toMatchObject({ source: 2, created: 2 });
      const patients = await client.listPatients();
      expect(patients.map((p) => `${p.old_reference_id} ${p.first_name} ${p.last_name}`).sort()).toEqual([
        'C1 Aroha Parata',
        'C2 Mia 🌸 Walker',
      ]);
      expect(await client.listIndividualAppointments()).toHaveLength(2);
    });
  },
  vitest,
);

caseSuite(
  '04-mixed-utf8-cp1252-rows',
  (get) => {
    it('decodes each row in its own encoding: every name reaches Cliniko as typed', async () => {
      const { client, live } = get();
      expect(live.report.entities.patients).toMatchObject({ source: 3, created: 3 });
      const names = (await client.listPatients()).map((p) => `${p.first_name} ${p.last_name}`).sort();
      expect(names).toEqual(['Mārama Ngāti', 'Renée Thompson', 'Zoë O’Brien']);
      expect(names.join(' ')).not.toMatch(/Ã|Ä\u0081|\uFFFD/);
    });
  },
  vitest,
);

caseSuite(
  '07-date-with-midnight-time',
  (get) => {
    it('reads the date of a date column that carries a midnight time', async () => {
      const { client, live } = get();
      expect(live.report.problems.filter((p) => p.code === 'INVALID_DATE')).toEqual([]);
      const dobs = (await client.listPatients())
        .map((p) => `${p.old_reference_id} ${p.date_of_birth}`)
        .sort();
      expect(dobs).toEqual(['C1 1964-10-23', 'C2 1978-07-16']);
      const starts = (await client.listIndividualAppointments()).map((a) => a.starts_at).sort();
      // 10:00 and 10:30 in Auckland (NZDT, UTC+13)
      expect(starts.map((s) => new Date(s).toISOString())).toEqual([
        '2025-03-12T21:00:00.000Z',
        '2025-03-13T21:30:00.000Z',
      ]);
    });
  },
  vitest,
);

caseSuite(
  '08-unescaped-quote-in-note',
  (get) => {
    it('keeps the note with unescaped quotes whole, reports it at its row, and migrates the rest unchanged', async () => {
      const { client, live, sandbox } = get();
      const n2 = live.report.problems.filter((p) => p.sourceId === 'N2');
      expect(n2.map((p) => `${p.file}:${p.row}`)).toContain('ClinicalNotes.csv:3');
      expect(live.report.entities.clinicalNotes).toMatchObject({ source: 4, created: 4, invalid: 0 });
      const patients = await client.listPatients();
      const byRef = new Map(patients.map((p) => [p.old_reference_id, p]));
      expect((byRef.get('C1') as Record<string, unknown> | undefined)?.notes).toBe(
        'Height 5\'10" per intake',
      );
      const c2 = byRef.get('C2');
      const pdfs = sandbox.state
        .all('patient_attachments')
        .filter((a) => String(a.patient_id) === String(c2?.id));
      expect(pdfs).toHaveLength(1);
      const { readFileSync } = await import('node:fs');
      const text = squeeze((await pdfPages(readFileSync(String(pdfs[0]?.storage_path)))).join(''));
      expect(text).toContain(
        squeeze('Subjective Pt says "no running" for 2 weeks, then review Plan Review in 2/52'),
      );
    });
  },
  vitest,
);

caseSuite(
  '09-phone-excel-float-damage',
  (get) => {
    it('leaves out phone numbers a spreadsheet damaged, with a warning naming row and field', async () => {
      const { client, live } = get();
      const warned = live.report.problems
        .filter((p) => p.code === 'INVALID_PHONE')
        .map((p) => `${p.row}:${p.field}`)
        .sort();
      expect(warned).toEqual(['2:MobilePhone', '3:HomePhone', '3:MobilePhone']);
      const phones = new Map(
        (await client.listPatients()).map((p) => [
          p.old_reference_id,
          (p.patient_phone_numbers ?? []).map((n) => n.number),
        ]),
      );
      expect(phones.get('C1')).toEqual([]);
      expect(phones.get('C2')).toEqual([]);
      expect(phones.get('C3')).toEqual(['+64 21 781 300']);
    });
  },
  vitest,
);

caseSuite(
  '29-duplicate-header-names',
  (get) => {
    it('keeps the copy of a column named twice that holds a value, and names the column', async () => {
      const { client, live } = get();
      const named = live.report.problems
        .filter((p) => p.code === 'DUPLICATE_COLUMN')
        .map((p) => `${p.file}:${p.field}:${p.severity}`)
        .sort();
      expect(named).toEqual(['Clients.csv:Email:warning', 'Clients.csv:Notes:warning']);
      const byRef = new Map((await client.listPatients()).map((p) => [p.old_reference_id, p]));
      const kept = (ref: string) => {
        const p = byRef.get(ref) as Record<string, unknown> | undefined;
        return [p?.email, p?.notes];
      };
      expect(kept('C1')).toEqual(['aroha@example.com', 'Prefers afternoons']);
      expect(kept('C2')).toEqual(['tama@example.com', 'Knee replacement 2019']);
    });
  },
  vitest,
);

caseSuite(
  '30-phone-two-numbers-extension',
  (get) => {
    it('stores each number of a cell on its own, never glued to another or to an extension', async () => {
      const { client, live } = get();
      const named = new Set(
        live.report.problems
          .filter((p) => p.severity === 'warning')
          .map((p) => `${p.file}:${p.row}:${p.field}`),
      );
      for (const cell of [
        'Clients.csv:2:MobilePhone',
        'Clients.csv:2:WorkPhone',
        'Clients.csv:3:MobilePhone',
        'Clients.csv:3:HomePhone',
      ])
        expect([cell, named.has(cell)]).toEqual([cell, true]);
      expect([...named].filter((c) => c.startsWith('Clients.csv:4:'))).toEqual([]);
      const phones = new Map(
        (await client.listPatients()).map((p) => [
          p.old_reference_id,
          (p.patient_phone_numbers ?? [])
            .map((n) => `${n.phone_type} ${(n.number ?? '').replace(/\D/g, '')}`)
            .sort(),
        ]),
      );
      expect(phones.get('C1')).toEqual(['Mobile 021781300', 'Mobile 0275551234', 'Work 093794321']);
      expect(phones.get('C2')).toEqual(['Home 093794322', 'Home 093794323', 'Mobile 021781301']);
      expect(phones.get('C3')).toEqual(['Mobile 6421781302']);
    });
  },
  vitest,
);
