import { describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import { generateExport } from '../../apps/generate/generate-export.js';
import { contactKey } from '../../src/batch/payload.js';
import { references } from '../../src/batch/references.js';
import { PHASES, type PlannedRecord, processRow, tableInfo } from '../../src/batch/row-processing.js';
import { ConfigError, parseConfig } from '../../src/config/migration-config.js';
import * as M from '../../src/core/canonical.js';
import { accountedFor, ENTITY_KEYS, type EntityKey } from '../../src/core/entities.js';
import { RowBatch } from '../../src/core/row-batch.js';
import { DateOrderEvidence } from '../../src/core/values.js';
import { keys } from '../../src/ports/bucket-keys.js';
import type { RecordOutcome } from '../../src/ports/outcomes.js';
import { ArchiveEntries, EntryIndex, openArchive } from '../../src/source/archive.js';
import { loadProfile } from '../../src/source/profile.js';
import {
  BASE,
  csv,
  dryRunWith,
  PreflightRefused,
  tempDir,
  writeFolder,
  writeZip,
} from '../support/exports.js';

const problem = (r: Awaited<ReturnType<typeof dryRunWith>>, code: string) =>
  r.problems.filter((p) => p.code === code);

describe('every row is accounted for', () => {
  it('on a generated messy export, counting raw CSV records independently', async () => {
    const path = `${await tempDir()}/g.zip`;
    await generateExport(path, { patients: 300, seed: 11 });
    const result = await dryRunWith(path, {}, [
      { first_name: 'Hana', last_name: 'Ruru' },
      { first_name: 'Michael', last_name: 'Grant' },
      { first_name: 'Priya', last_name: 'Sharma' },
      { first_name: 'Tom', last_name: 'Baker' },
      { first_name: 'Ella', last_name: 'Fitzgerald' },
      { first_name: 'Robert', last_name: 'Lee' },
    ]);
    // count the records of each table with a plain CSV parser, not the product's reader
    const archive = await openArchive(path);
    const records = async (file: string) => {
      const entry = archive.find(file);
      if (!entry) return 0;
      const chunks: Buffer[] = [];
      for await (const c of await archive.open(entry.path)) chunks.push(c as Buffer);
      return (
        (
          parse(new TextDecoder('windows-1252').decode(Buffer.concat(chunks)), {
            relax_column_count: true,
            skip_empty_lines: true,
            bom: true,
          }) as unknown[]
        ).length - 1
      );
    };
    expect(result.entities.patients.source).toBe(await records('Clients.csv'));
    expect(result.entities.appointments.source).toBe(await records('Appointments.csv'));
    expect(result.entities.contacts.source).toBe(
      (await records('Employers.csv')) + (await records('Referrers.csv')) + (await records('Debtors.csv')),
    );
    expect(result.entities.clinicalNotes.source).toBe(await records('ClinicalNotes.csv'));
    expect(result.entities.letters.source).toBe(await records('Letters.csv'));
    expect(result.entities.fileUploads.source).toBe(await records('Uploads.csv'));
    expect(result.excluded).toEqual({
      invoices: await records('Invoices.csv'),
      payments: await records('Payments.csv'),
    });
    await archive.close();
    expect(ENTITY_KEYS.filter((key) => !accountedFor(result.entities[key]))).toEqual([]);
    // the approval aids of a generated export, every section filled
    const aids = result.aids;
    expect(aids.clientSample).toHaveLength(20);
    expect(aids.busiestWeek?.appointments).toBeGreaterThan(0);
    expect(aids.busiestWeek?.byPractitioner.reduce((n, p) => n + p.source, 0)).toBe(
      aids.busiestWeek?.appointments,
    );
    expect(aids.appointmentSample).toHaveLength(12);
    expect(aids.dstEdgeCases.length).toBeGreaterThan(0);
    expect(aids.notesByClient.length).toBeGreaterThan(0);
    expect(aids.attachmentTotals.letters + aids.attachmentTotals.uploads).toBe(
      result.entities.letters.planned + result.entities.fileUploads.planned,
    );
    expect(aids).toHaveProperty('ambiguousDateColumns');
    // and the messiness was really there
    for (const code of [
      'DUPLICATE_KEY',
      'PARENT_MISSING',
      'INVALID_EMAIL',
      'INVALID_DATE',
      'INVALID_PHONE',
      'REQUIRED_MISSING',
      'DANGLING_REFERENCE',
      'UNKNOWN_COLUMNS',
      'FILE_MISSING',
      'PATH_ESCAPES_ARCHIVE',
    ]) {
      expect({ code, found: problem(result, code).length > 0 }).toEqual({ code, found: true });
    }
    for (const p of result.problems) {
      expect(p).not.toHaveProperty('file', '');
      expect(p.code).toMatch(/^[A-Z_]+$/);
    }
    // each invalid row has an error naming its file, row and field
    const invalidRows = new Set(
      result.problems.filter((p) => p.severity === 'error' && p.row > 1).map((p) => `${p.file}:${p.row}`),
    );
    const invalid = ENTITY_KEYS.reduce((n, k) => n + result.entities[k].invalid, 0);
    expect(invalidRows.size).toBe(invalid);
  });
});

describe('the canonical model', () => {
  it('every planned record of a messy export conforms to its zod schema', async () => {
    const path = `${await tempDir()}/g.zip`;
    await generateExport(path, { patients: 120, seed: 5 });
    const result = await dryRunWith(path, { unmatchedPractitioners: 'exclude' });
    const { run, blobs, store, runId } = result;
    if (!run) throw new Error('the dry run was not recorded');
    // Each batch MapBatch mapped, its rows built again with the parents the run decided: the
    // records the batch core planned.
    const outcomes = async (entity: EntityKey) => {
      const byId = new Map<string, RecordOutcome['outcome']>();
      for await (const o of store.listOutcomes(runId, entity)) byId.set(o.sourceId, o.outcome);
      return byId;
    };
    const patients = await outcomes('patients');
    const contacts = await outcomes('contacts');
    const types = await outcomes('appointmentTypes');
    const entries = new EntryIndex((await blobs.getJson('', keys.entries(runId), ArchiveEntries)) ?? []);
    const refs = references({
      patient: (id) => {
        const o = patients.get(id);
        return o === 'failed' ? 'invalid' : o;
      },
      contact: (kind, id) => contacts.get(contactKey(kind, id)) === 'planned',
      location: (id) => run.locations[id],
      practitioner: (id) => run.practitioners[id],
      appointmentType: (id) => types.get(id) === 'planned',
      defaultTimeZone: run.defaultTimeZone,
      entry: (p) => entries.match(p),
    });
    const planned: PlannedRecord[] = [];
    for (const phase of PHASES) {
      const manifest = (await blobs.getJson('', keys.manifest(runId, phase), z.array(z.string()))) ?? [];
      for (const key of manifest) {
        const batch = await blobs.getJson('', key, RowBatch);
        if (!batch) continue;
        const rows = [...batch.rows];
        for (const part of batch.parts ?? [])
          rows.push(...((await blobs.getJson('', part, RowBatch))?.rows ?? []));
        const table = tableInfo(batch.table).table;
        const ctx = {
          file: batch.file,
          entity: tableInfo(table).entity,
          profile: loadProfile(),
          config: run.config,
          refs,
          evidence: new DateOrderEvidence(),
        };
        for (const row of rows) {
          const p = processRow(table, row, ctx).planned;
          if (p) planned.push(p);
        }
      }
    }
    const schemas = {
      patients: M.Patient,
      contacts: M.Contact,
      appointmentTypes: M.AppointmentType,
      appointments: M.Appointment,
      clinicalNotes: M.ClinicalNote,
      letters: M.Document,
      fileUploads: M.Document,
    };
    expect(new Set(planned.map((p) => p.entity)).size).toBe(7);
    // as many as the run planned: the records checked are the ones it decided on
    expect(planned.length).toBe(
      ENTITY_KEYS.reduce((n, k) => n + result.entities[k].planned + result.entities[k].alreadyPresent, 0),
    );
    for (const p of planned) {
      const parsed = schemas[p.entity].safeParse(p.record);
      expect({ entity: p.entity, record: p.record, error: parsed.error?.message }).toEqual({
        entity: p.entity,
        record: p.record,
        error: undefined,
      });
    }
  });
});

describe('row outcomes of docs/EXPORT-FORMAT.md', () => {
  it('skips a repeated key (the first row wins) and invalidates a row missing a required value', async () => {
    const r = await dryRunWith(
      await writeFolder({
        ...BASE,
        'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee', 'C1,Ann,Duplicate', 'C2,,Nobody'),
      }),
    );
    expect(r.entities.patients).toMatchObject({ source: 3, planned: 1, skipped: 1, invalid: 1 });
    expect(problem(r, 'DUPLICATE_KEY')[0]).toMatchObject({
      file: 'Clients.csv',
      row: 3,
      field: 'ClientId',
      severity: 'info',
      sourceId: 'C1',
    });
    expect(problem(r, 'REQUIRED_MISSING')[0]).toMatchObject({
      row: 4,
      field: 'FirstName',
      severity: 'error',
    });
  });

  it('invalidates children of missing or invalid clients, and skips those of skipped ones', async () => {
    const r = await dryRunWith(
      await writeFolder({
        ...BASE,
        'Clients.csv': csv(
          'ClientId,FirstName,LastName,Inactive',
          'C1,Ann,Lee,N',
          'C2,,Bad,N',
          'C3,Old,Timer,Y',
        ),
        'Appointments.csv': csv(
          'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,LocationId,AppointmentTypeId',
          'A1,C1,P1,01/02/2024,09:00,L1,T1',
          'A2,C9,P1,01/02/2024,09:00,L1,T1',
          'A3,C2,P1,01/02/2024,09:00,L1,T1',
          'A4,C3,P1,01/02/2024,09:00,L1,T1',
        ),
      }),
      { includeInactivePatients: false },
    );
    expect(r.entities.patients).toMatchObject({ planned: 1, invalid: 1, skipped: 1 });
    expect(problem(r, 'INACTIVE_EXCLUDED')).toHaveLength(1);
    expect(r.entities.appointments).toMatchObject({ source: 4, planned: 1, invalid: 2, skipped: 1 });
    expect(problem(r, 'PARENT_MISSING')[0]).toMatchObject({ sourceId: 'A2', row: 3, field: 'ClientId' });
    expect(problem(r, 'PARENT_INVALID')[0]).toMatchObject({ sourceId: 'A3' });
    expect(problem(r, 'PARENT_SKIPPED')[0]).toMatchObject({ sourceId: 'A4', severity: 'info' });
  });

  it('keeps a row with a malformed optional value or dangling optional reference, with a warning', async () => {
    const r = await dryRunWith(
      await writeFolder({
        ...BASE,
        'Employers.csv': csv('EmployerId,CompanyName', 'E1,Acme'),
        'Clients.csv': csv(
          'ClientId,FirstName,LastName,DateOfBirth,Email,MobilePhone,EmployerId,ReferrerId',
          'C1,Ann,Lee,31/02/1980,not-an-email,N/A,E1,R404',
        ),
      }),
    );
    expect(r.entities.patients).toMatchObject({ planned: 1, invalid: 0 });
    expect(r.problems.map((p) => [p.field, p.code, p.severity])).toEqual(
      expect.arrayContaining([
        ['DateOfBirth', 'INVALID_DATE', 'warning'],
        ['Email', 'INVALID_EMAIL', 'warning'],
        ['MobilePhone', 'INVALID_PHONE', 'warning'],
        ['ReferrerId', 'DANGLING_REFERENCE', 'warning'],
      ]),
    );
    expect(problem(r, 'DANGLING_REFERENCE').map((p) => p.field)).toEqual(['ReferrerId']);
  });

  it('uses the default business and "Migrated appointment" for missing or unknown location and type', async () => {
    const r = await dryRunWith(
      await writeFolder({
        ...BASE,
        'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee'),
        'Appointments.csv': csv(
          'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,LocationId,AppointmentTypeId',
          'A1,C1,P1,01/02/2024,09:00,,T9',
          'A2,C1,P1,01/02/2024,10:00,L9,',
        ),
      }),
    );
    expect(r.entities.appointments).toMatchObject({ planned: 2, invalid: 0 });
    const rowProblems = r.problems.filter((p) => p.file === 'Appointments.csv' && p.row > 1);
    expect(rowProblems.map((p) => p.code).sort()).toEqual([
      'APPOINTMENT_TYPE_MISSING',
      'APPOINTMENT_TYPE_UNKNOWN',
      'LOCATION_MISSING',
      'LOCATION_UNKNOWN',
    ]);
    expect(r.needsMigratedType).toBe(true);
  });

  it('converts local times in each location zone and reports DST gaps and overlaps', async () => {
    const r = await dryRunWith(
      await writeFolder({
        ...BASE,
        'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee'),
        'Appointments.csv': csv(
          'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,LocationId,AppointmentTypeId',
          'A1,C1,P1,29/09/2024,02:30,L1,T1',
          'A2,C1,P1,07/04/2024,02:30,L2,T1',
          'A3,C1,P1,15/01/2024,9:00 AM,L1,T1',
        ),
      }),
    );
    expect(problem(r, 'DST_GAP')[0]).toMatchObject({
      sourceId: 'A1',
      severity: 'warning',
      field: 'StartTime',
    });
    expect(problem(r, 'DST_GAP')[0]?.message).toContain(
      'moved later by the gap to 29 Sep 2024, 03:30 NZDT (Pacific/Auckland)',
    );
    expect(problem(r, 'DST_OVERLAP')[0]).toMatchObject({ sourceId: 'A2' });
    expect(problem(r, 'DST_OVERLAP')[0]?.message).toContain(
      'the earlier one, 7 Apr 2024, 02:30 AEDT (Australia/Sydney), is used',
    );
    expect(r.entities.appointments.planned).toBe(3);
  });

  it('invalidates documents whose file is missing or whose path escapes the export', async () => {
    const r = await dryRunWith(
      await writeZip({
        ...BASE,
        'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee'),
        'Letters.csv': csv(
          'LetterId,ClientId,LetterDate,FilePath',
          'L1,C1,01/02/2024,Letters\\ok.pdf',
          'L2,C1,01/02/2024,Letters/gone.pdf',
          'L3,C1,01/02/2024,..\\..\\secret.pdf',
        ),
        'Letters/ok.pdf': '%PDF-1.4',
        '../secret.pdf': 'x',
      }),
    );
    expect(r.entities.letters).toMatchObject({ source: 3, planned: 1, invalid: 2 });
    expect(problem(r, 'FILE_MISSING')[0]).toMatchObject({ sourceId: 'L2', field: 'FilePath' });
    expect(problem(r, 'PATH_ESCAPES_ARCHIVE')[0]).toMatchObject({ sourceId: 'L3' });
    expect(problem(r, 'UNSAFE_ENTRY')[0]).toMatchObject({ file: '../secret.pdf', severity: 'error' });
  });

  it('makes every row of a file missing a required column invalid, with one problem naming the column', async () => {
    const r = await dryRunWith(
      await writeFolder({ ...BASE, 'Clients.csv': csv('ClientId,FirstName', 'C1,Ann', 'C2,Bob') }),
    );
    expect(r.entities.patients).toMatchObject({ source: 2, invalid: 2 });
    expect(problem(r, 'MISSING_COLUMN')).toEqual([
      expect.objectContaining({ field: 'LastName', file: 'Clients.csv', row: 1, severity: 'error' }),
    ]);
  });

  it('reports each table the export lacks once, as TABLE_MISSING, reference tables included', async () => {
    const { 'Practitioners.csv': _gone, ...rest } = BASE;
    const r = await dryRunWith(
      await writeFolder({ ...rest, 'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee') }),
    );
    const missing = problem(r, 'TABLE_MISSING');
    const files = missing.map((p) => p.file);
    expect(new Set(files).size).toBe(files.length);
    expect(missing).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ file: 'Practitioners.csv', severity: 'info', row: 0 }),
        expect.objectContaining({
          file: 'Appointments.csv',
          severity: 'info',
          message: expect.stringMatching(/^Appointments\.csv is not in the export; no \w+ are migrated$/),
        }),
      ]),
    );
    expect(r.entities.patients).toMatchObject({ source: 1, planned: 1 });
  });

  it('flags a date column whose day/month order cannot be told', async () => {
    const r = await dryRunWith(
      await writeFolder({
        ...BASE,
        'Clients.csv': csv(
          'ClientId,FirstName,LastName,DateOfBirth',
          'C1,A,B,01/02/1990',
          'C2,C,D,03/04/1991',
        ),
        'ClinicalNotes.csv': csv('NoteId,ClientId,NoteDate,Body', 'N1,C1,25/02/2024,x'),
      }),
    );
    expect(problem(r, 'DATE_ORDER_AMBIGUOUS')).toEqual([
      expect.objectContaining({ file: 'Clients.csv', field: 'DateOfBirth', severity: 'warning' }),
    ]);
  });

  it('reports a value over a Cliniko limit instead of cutting it', async () => {
    const r = await dryRunWith(
      await writeFolder({
        ...BASE,
        'Clients.csv': csv(
          'ClientId,FirstName,LastName,Occupation',
          `C1,Ann,${'L'.repeat(300)},x`,
          `C2,Bob,Lee,${'O'.repeat(256)}`,
        ),
      }),
    );
    expect(r.entities.patients).toMatchObject({ planned: 1, invalid: 1 });
    expect(problem(r, 'TOO_LONG').map((p) => [p.sourceId, p.field, p.severity])).toEqual([
      ['C1', 'LastName', 'error'],
      ['C2', 'Occupation', 'warning'],
    ]);
  });
});

describe('practitioners and configuration', () => {
  const files = {
    ...BASE,
    'Practitioners.csv': csv('PractitionerId,FirstName,LastName', 'P1,Hana,Ruru', 'P2,Gone,Away'),
    'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee'),
    'Appointments.csv': csv(
      'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,LocationId,AppointmentTypeId',
      'A1,C1,P1,01/02/2024,09:00,L1,T1',
      'A2,C1,P2,01/02/2024,10:00,L1,T1',
    ),
  };

  it('matches by name, case- and space-insensitively, and fails unmatched ones by default', async () => {
    const r = await dryRunWith(await writeFolder(files), {}, [{ first_name: ' hana ', last_name: 'RURU' }]);
    expect(r.entities.appointments).toMatchObject({ planned: 1, invalid: 1 });
    expect(
      problem(r, 'UNMATCHED_PRACTITIONER')
        .map((p) => p.file)
        .sort(),
    ).toEqual(['Appointments.csv', 'Practitioners.csv']);
  });

  it('skips their appointments under "exclude"', async () => {
    const r = await dryRunWith(await writeFolder(files), { unmatchedPractitioners: 'exclude' });
    expect(r.entities.appointments).toMatchObject({ planned: 1, skipped: 1 });
  });

  it('assigns them to "Former practitioner" when asked, and refuses that policy without one', async () => {
    const r = await dryRunWith(await writeFolder(files), { unmatchedPractitioners: 'former-practitioner' }, [
      { first_name: 'Hana', last_name: 'Ruru' },
      { first_name: 'Former', last_name: 'practitioner' },
    ]);
    expect(r.entities.appointments).toMatchObject({ planned: 2 });
    await expect(
      dryRunWith(await writeFolder(files), { unmatchedPractitioners: 'former-practitioner' }),
    ).rejects.toThrow(/Former practitioner/);
  });

  it('validates migration.json with errors that name the field', () => {
    expect(() => parseConfig({ timeZone: 'Mars/Olympus' })).toThrow(/timeZone: is not an IANA time zone/);
    expect(() => parseConfig({ practitioners: { P1: 'abc' } })).toThrow(
      /practitioners\.P1: is not a Cliniko id/,
    );
    expect(() => parseConfig({ unmatchedPractitioners: 'shrug' })).toThrow(ConfigError);
    expect(() => parseConfig({ colour: 'red' })).toThrow(/colour: unknown field/);
    expect(parseConfig({ practitioners: { P1: 123 } }).practitioners.P1).toBe('123');
  });
});

describe('refusals', () => {
  it('refuses an Audio Enterprise Manager export with a clear message', async () => {
    const path = await writeZip({
      'manifest.json': JSON.stringify({ system: 'Audio Enterprise Manager 7' }),
      ...BASE,
    });
    await expect(dryRunWith(path)).rejects.toThrow(PreflightRefused);
    await expect(dryRunWith(path)).rejects.toThrow(/Audio Enterprise Manager \(AEM\)/);
  });
});
