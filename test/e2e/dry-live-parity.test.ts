import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parse } from 'csv-parse/sync';
import { generateExport, sandboxSeedForGenerated } from '../../apps/generate/generate-export.js';
import { type LocalRunResult, runLocal } from '../../apps/local/run-local.js';
import type { SandboxSeed } from '../../apps/sandbox/seed.js';
import { type Sandbox, startSandbox } from '../../apps/sandbox/server.js';
import { ENTITY_KEYS } from '../../src/core/entities.js';
import { openArchive } from '../../src/source/archive.js';
import { CASE_NAMES, caseExport } from '../support/cases.js';
import { BASE, csv, type ExportFiles, tempDir, writeZip } from '../support/exports.js';
import { NATIVE_KEYS, nativeNotesExport, nativeSeed } from '../support/native-notes.js';
import { clinicSeed } from '../support/sandbox.js';

/**
 * A dry run is the live run minus the writes (issue 24): for every real-world case, a generated
 * messy export, its delta, native treatment notes and an account that already holds patients, a
 * dry run and then the live run of the same export into the same account must agree, per entity:
 * what the dry run planned is what the live run created (or failed, only for the refusals listed
 * in REFUSED_ONLY_BY_CLINIKO), and the same records present, updated, skipped and invalid, with
 * the same problems at the same places (code, file, row, field; wording aside).
 */

/**
 * Refusals that only Cliniko's answer can reveal, so a dry run plans the record and the live run
 * fails it: `entity:code`. None of the exports here has one; a new entry needs its reason.
 */
const REFUSED_ONLY_BY_CLINIKO: ReadonlySet<string> = new Set<string>();

/** Problems only a write produces: the refusals above, as the live report words them. */
const liveOnly = (p: { entity: string; code: string }) =>
  REFUSED_ONLY_BY_CLINIKO.has(`${p.entity}:${p.code}`);

const sandboxes: Sandbox[] = [];

/** A fresh Cliniko account (its own sandbox) seeded with `seed`; no rate limit (0). */
async function account(seed: SandboxSeed): Promise<Sandbox> {
  const apiKey = seed.users?.[0]?.api_key ?? '';
  const sandbox = await startSandbox({
    shard: apiKey.split('-').pop() ?? 'au1',
    rateLimit: 0,
    attachmentProcessingMs: 5,
    seed,
  });
  sandboxes.push(sandbox);
  return sandbox;
}

interface Pair {
  readonly dry: LocalRunResult;
  readonly live: LocalRunResult;
}

interface Scenario {
  readonly sandbox: Sandbox;
  readonly apiKeys: readonly string[];
  readonly configJson?: string;
  /** The clinic's status table, kept between its runs (a delta needs the first run's id map). */
  readonly statePath?: string;
}

/** The export dry, then live, through the runner the CLI uses (runLocal), into the scenario's account. */
async function dryThenLive(label: string, zip: string, s: Scenario): Promise<Pair> {
  const out = await tempDir(`parity-${label}-`);
  const run = (mode: 'dry-run' | 'live') =>
    runLocal(
      {
        exportZip: zip,
        mode,
        credentials: { apiKeys: [...s.apiKeys], baseUrl: s.sandbox.baseUrl },
        rateLimitPerMinute: 100_000,
        visibilityTimeoutSeconds: 1,
        clinikoRetry: { maxAttempts: 2, baseDelayMs: 5 },
        ...(s.configJson ? { configJson: s.configJson } : {}),
        ...(s.statePath ? { statePath: s.statePath } : {}),
      },
      (runId) => join(out, mode, runId),
    );
  const dry = await run('dry-run');
  const live = await run('live');
  return { dry, live };
}

/** Per entity, the dry run's counts beside what the live run's counts say the dry run should have been. */
function countsOf({ dry, live }: Pair) {
  const predicted = ENTITY_KEYS.map((entity) => {
    const d = dry.report.entities[entity];
    return {
      entity,
      source: d.source,
      planned: d.planned,
      alreadyPresent: d.alreadyPresent,
      updated: d.updated,
      skipped: d.skipped,
      invalid: d.invalid,
      missingFromExport: d.missingFromExport,
    };
  });
  const refused = (entity: string) =>
    live.report.problems.filter((p) => p.entity === entity && p.severity === 'error' && liveOnly(p)).length;
  const happened = ENTITY_KEYS.map((entity) => {
    const l = live.report.entities[entity];
    return {
      entity,
      source: l.source,
      planned: l.created + refused(entity),
      alreadyPresent: l.alreadyPresent,
      updated: l.updated,
      skipped: l.skipped,
      invalid: l.invalid,
      missingFromExport: l.missingFromExport,
    };
  });
  const failedOtherwise = ENTITY_KEYS.map((entity) => ({
    entity,
    failed: live.report.entities[entity].failed - refused(entity),
  })).filter((f) => f.failed !== 0);
  return { predicted, happened, failedOtherwise };
}

/** The report's problems as a sorted multiset of places: `code file:row field`. */
const places = (r: LocalRunResult, keep: (p: { entity: string; code: string }) => boolean = () => true) =>
  r.report.problems
    .filter(keep)
    .map((p) => `${p.code} ${p.file}:${p.row} ${p.field}`)
    .sort();

/** The assertions of parity, for one dry run and the live run after it. */
function expectParity(pair: Pair): void {
  const { dry, live } = pair;
  expect(dry.report.status).not.toBe('failed');
  expect(live.report.status).toBe('succeeded');
  const { predicted, happened, failedOtherwise } = countsOf(pair);
  expect(predicted).toEqual(happened);
  expect(failedOtherwise).toEqual([]);
  expect(places(dry)).toEqual(places(live, (p) => !liveOnly(p)));
  expect(live.deadLetters).toBe(0);
}

afterAll(async () => {
  await Promise.all(sandboxes.map((s) => s.close()));
});

// Every run is a whole pipeline on the local emulators.
const PAIR_TIMEOUT = 300_000;

type CaseName = (typeof CASE_NAMES)[number];

/**
 * The cases, grouped to keep the test quick (every pipeline run costs seconds of CPU): the cases
 * of a group have the same tables with the same headers, and run as one export (mergedCases).
 */
const CASE_GROUPS: readonly (readonly CaseName[])[] = [
  ['02-emoji-in-name', '04-mixed-utf8-cp1252-rows', '07-date-with-midnight-time'],
  [
    '05-nfd-attachment-filename',
    '11-attachment-filename-special-chars',
    '17-zero-byte-document',
    '26-case-colliding-document-paths',
  ],
  ['08-unescaped-quote-in-note'],
  ['09-phone-excel-float-damage'],
  ['29-duplicate-header-names'],
  ['30-phone-two-numbers-extension'],
];

/** The clinic's set-up, the same in every case: taken once from a group's first case. */
const SHARED = new Set(['Locations.csv', 'Practitioners.csv', 'AppointmentTypes.csv', 'manifest.json']);

/**
 * One export of the group's cases, their bytes kept (each row in its own encoding, names of
 * documents as the case's zip stores them): every table's header once, then each case's rows with
 * the row's own id and its client's id tagged by the case (`K04C1`), so ids never collide.
 */
async function mergedCases(names: readonly CaseName[]): Promise<string> {
  const merged: ExportFiles = {};
  const headers = new Map<string, string>();
  const rows = new Map<string, string[]>();
  /** A document's path, case folded, and the case it is of. */
  const owners = new Map<string, CaseName>();
  for (const name of names) {
    const tag = `K${name.slice(0, 2)}`;
    for (const [path, content] of Object.entries(await filesOf(caseExport(name).zip))) {
      const bytes = Buffer.from(content);
      const before = merged[path];
      if (SHARED.has(path)) {
        if (before && !bytes.equals(Buffer.from(before))) throw new Error(`${name}: ${path} differs`);
        merged[path] = bytes;
      } else if (!path.endsWith('.csv')) {
        const other = owners.get(path.toLowerCase()) ?? name;
        if (other !== name) throw new Error(`${name}: ${path} is in ${other} too`);
        owners.set(path.toLowerCase(), name);
        merged[path] = bytes;
      } else {
        // latin1 keeps every byte as one character: the rows' own encodings pass through untouched
        const [header = '', ...lines] = bytes.toString('latin1').split('\r\n');
        if ((headers.get(path) ?? header) !== header) throw new Error(`${name}: ${path} has other headers`);
        headers.set(path, header);
        const ids = path === 'Clients.csv' ? 1 : 2;
        const tagged = lines
          .filter((l) => l !== '')
          .map((l) => {
            const fields = l.split(',');
            if (!fields.slice(0, ids).every((f) => /^[A-Za-z0-9]+$/.test(f)))
              throw new Error(`${name}: a row of ${path} does not start with its ids`);
            return fields.map((f, i) => (i < ids ? `${tag}${f}` : f)).join(',');
          });
        rows.set(path, [...(rows.get(path) ?? []), ...tagged]);
      }
    }
  }
  for (const [path, header] of headers)
    merged[path] = Buffer.from(`${[header, ...(rows.get(path) ?? [])].join('\r\n')}\r\n`, 'latin1');
  return writeZip(merged);
}

describe('dry run and live run agree on every real-world case', () => {
  it('every case is in a group', () => {
    expect(CASE_GROUPS.flat().sort()).toEqual([...CASE_NAMES].sort());
  });

  for (const group of CASE_GROUPS) {
    it(
      group.join(' + '),
      async () => {
        const [first] = group;
        if (!first) throw new Error('an empty group');
        const { seed } = caseExport(first);
        for (const name of group) expect(caseExport(name).seed).toEqual(seed);
        const zip = group.length === 1 ? caseExport(first).zip : await mergedCases(group);
        const sandbox = await account(seed);
        expectParity(await dryThenLive(first, zip, { sandbox, apiKeys: [seed.users?.[0]?.api_key ?? ''] }));
      },
      PAIR_TIMEOUT,
    );
  }
});

const GENERATED_KEY = 'ParityGeneratedKey0000000001-au1';

/** The export's entries, as written files (paths without the export's top folder). */
async function filesOf(zip: string): Promise<ExportFiles> {
  const archive = await openArchive(zip);
  const files: ExportFiles = {};
  try {
    for (const entry of archive.entries) {
      const chunks: Buffer[] = [];
      for await (const c of await archive.open(entry.path)) chunks.push(c as Buffer);
      files[entry.path] = Buffer.concat(chunks);
    }
  } finally {
    await archive.close();
  }
  return files;
}

const quoted = (fields: readonly string[]) => fields.map((f) => `"${f.replace(/"/g, '""')}"`).join(',');

/**
 * The generated export with its Clients.csv edited as a later export of the clinic would be:
 * one client added (a copy of `added`'s row under a new id and name), one changed (a new e-mail)
 * and one removed; written UTF-8 with a BOM, as the generator writes it.
 */
async function laterExport(
  zip: string,
  edit: {
    readonly added: string;
    readonly newId: string;
    readonly changed: string;
    readonly removed: string;
  },
): Promise<string> {
  const files = await filesOf(zip);
  const clients = files['Clients.csv'];
  if (!clients) throw new Error('the generated export has no Clients.csv');
  const rows = parse(clients.toString('utf8'), { bom: true, relax_column_count: true }) as string[][];
  const [header, ...records] = rows;
  if (!header) throw new Error('Clients.csv has no header');
  const col = (name: string) => header.indexOf(name);
  const out: string[][] = [];
  for (const r of records) {
    const id = r[col('ClientId')];
    if (id === edit.removed) continue;
    if (id === edit.changed) {
      const changed = [...r];
      changed[col('Email')] = `moved.${id.toLowerCase()}@example.co.nz`;
      out.push(changed);
      continue;
    }
    out.push(r);
    if (id === edit.added) {
      const copy = [...r];
      copy[col('ClientId')] = edit.newId;
      copy[col('FirstName')] = 'Newcomer';
      copy[col('Email')] = `newcomer.${edit.newId.toLowerCase()}@example.co.nz`;
      out.push(copy);
    }
  }
  files['Clients.csv'] = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from(`${[header, ...out].map(quoted).join('\r\n')}\r\n`, 'utf8'),
  ]);
  return writeZip(files);
}

describe('a generated messy export, then a later export of the same clinic (a delta)', () => {
  let sandbox: Sandbox;
  let statePath: string;
  let zip: string;
  let first: Pair | undefined;

  beforeAll(async () => {
    const dir = await tempDir('parity-generated-');
    zip = join(dir, 'export.zip');
    statePath = join(dir, 'status-table');
    await generateExport(zip, { patients: 30, appointmentsPerPatient: 3, seed: 24 });
    sandbox = await account(sandboxSeedForGenerated(GENERATED_KEY));
  });

  it(
    'the first transfer',
    async () => {
      first = await dryThenLive('generated', zip, { sandbox, apiKeys: [GENERATED_KEY], statePath });
      expectParity(first);
      expect(first.live.report.entities.patients.created).toBeGreaterThan(20);
    },
    PAIR_TIMEOUT,
  );

  it(
    'the delta: a new client, a changed client, a removed client, and one archived in Cliniko meanwhile',
    async () => {
      if (!first) throw new Error('the first transfer did not run');
      // clients without a problem (written as exported, each once in the export)
      const troubled = new Set(
        first.live.report.problems.filter((p) => p.entity === 'patients').map((p) => p.sourceId),
      );
      const clean = Array.from({ length: 30 }, (_, i) => `C${i + 1}`).filter((id) => !troubled.has(id));
      const [added, changed, removed, archived] = clean;
      if (!added || !changed || !removed || !archived)
        throw new Error('the generated export has too few clean clients');
      // archived by the clinic after the first transfer: the live run writes it (and its records) again
      const patient = sandbox.state.all('patients').find((p) => p.old_reference_id === archived);
      if (!patient) throw new Error(`${archived} was not written`);
      sandbox.state.update('patients', patient.id, { archived_at: sandbox.state.now() });
      const later = await laterExport(zip, { added, newId: 'C9001', changed, removed });
      const delta = await dryThenLive('delta', later, { sandbox, apiKeys: [GENERATED_KEY], statePath });
      expectParity(delta);
      expect(delta.live.report.entities.patients).toMatchObject({
        created: 2,
        updated: 1,
        missingFromExport: 1,
      });
    },
    PAIR_TIMEOUT * 2,
  );
});

describe('native treatment notes', () => {
  // N3's author (Wiremu) has no key: by default it goes into the PDF; under "skip" it is not moved.
  it.each([
    { policy: 'pdf', notes: { created: 3, skipped: 0 } },
    { policy: 'skip', notes: { created: 2, skipped: 1 } },
  ] as const)(
    'a dry run of native notes plans what the live run writes (notesWithoutAuthorKey "$policy")',
    async ({ policy, notes }) => {
      const dir = await tempDir('parity-native-');
      const configJson = join(dir, 'migration.json');
      writeFileSync(
        configJson,
        JSON.stringify({ clinicalNotes: 'native', markArrivals: 'all', notesWithoutAuthorKey: policy }),
      );
      const sandbox = await account(nativeSeed);
      const pair = await dryThenLive(`native-${policy}`, await nativeNotesExport(), {
        sandbox,
        apiKeys: [NATIVE_KEYS.admin, NATIVE_KEYS.hana, NATIVE_KEYS.tom],
        configJson,
      });
      expectParity(pair);
      expect(pair.live.report.entities.clinicalNotes).toMatchObject(notes);
      // the author's decision is made once: the dry run says what the live run says, word for word
      const authorless = (r: LocalRunResult) =>
        r.report.problems
          .filter((p) => p.code === 'NOTE_AUTHOR_HAS_NO_KEY')
          .map((p) => `${p.file}:${p.row} ${p.severity} ${p.message}`);
      expect(authorless(pair.dry)).toHaveLength(1);
      expect(authorless(pair.dry)).toEqual(authorless(pair.live));
    },
    PAIR_TIMEOUT,
  );
});

const HELD_KEY = 'ParityHeldKey000000000000001-au1';

/**
 * A clinic's account that already holds two of the export's four clients: C1 written before this
 * tool's state was kept (found under its reference), with its appointment A1, and C2 entered at
 * the front desk (same name, birth date and e-mail, no reference: a probable duplicate).
 */
async function heldAccount(): Promise<{ sandbox: Sandbox; zip: string }> {
  const sandbox = await account(clinicSeed(HELD_KEY));
  const c1 = sandbox.state.insert('patients', {
    first_name: 'Client1',
    last_name: 'Lee',
    date_of_birth: '1981-03-12',
    email: 'c1@example.com',
    old_reference_id: 'C1',
    archived_at: null,
  });
  const practitioner = sandbox.state.all('practitioners').find((p) => p.first_name === 'Hana');
  const business = sandbox.state.all('businesses')[0];
  if (!practitioner || !business) throw new Error('the seed has no practitioner or business');
  // A1: 1 May 2024 09:30 in Auckland (NZST, UTC+12)
  sandbox.state.insert('individual_appointments', {
    patient_id: c1.id,
    practitioner_id: practitioner.id,
    business_id: business.id,
    starts_at: '2024-04-30T21:30:00Z',
    ends_at: '2024-04-30T22:00:00Z',
    archived_at: null,
    cancelled_at: null,
  });
  sandbox.state.insert('patients', {
    first_name: 'Client2',
    last_name: 'Lee',
    date_of_birth: '1982-03-12',
    email: 'c2@example.com',
    old_reference_id: null,
    archived_at: null,
  });
  const clients = [1, 2, 3, 4];
  const zip = await writeZip({
    ...BASE,
    'Clients.csv': csv(
      'ClientId,FirstName,LastName,Email,MobilePhone,DateOfBirth',
      ...clients.map((n) => `C${n},Client${n},Lee,c${n}@example.com,021 000 000${n},12/03/198${n}`),
    ),
    'Appointments.csv': csv(
      'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId',
      ...clients.map((n) => `A${n},C${n},P1,0${n}/05/2024,09:30,T1,L1`),
    ),
  });
  return { sandbox, zip };
}

describe('an account that already holds patients', () => {
  it(
    'one found by its reference (with its appointment) and one probable duplicate, held back',
    async () => {
      const { sandbox, zip } = await heldAccount();
      const pair = await dryThenLive('held', zip, { sandbox, apiKeys: [HELD_KEY] });
      expectParity(pair);
      expect(pair.live.report.entities.patients).toMatchObject({ created: 2, alreadyPresent: 1, skipped: 1 });
      expect(pair.live.report.entities.appointments).toMatchObject({
        created: 2,
        alreadyPresent: 1,
        skipped: 1,
      });
    },
    PAIR_TIMEOUT,
  );

  it(
    'with "existingPatients": "link", the probable duplicate adopted',
    async () => {
      const { sandbox, zip } = await heldAccount();
      const configJson = join(await tempDir('parity-link-'), 'migration.json');
      writeFileSync(configJson, JSON.stringify({ existingPatients: 'link' }));
      const pair = await dryThenLive('link', zip, { sandbox, apiKeys: [HELD_KEY], configJson });
      expectParity(pair);
      expect(pair.live.report.entities.patients).toMatchObject({ created: 2, alreadyPresent: 2 });
      expect(pair.live.report.entities.appointments).toMatchObject({ created: 3, alreadyPresent: 1 });
    },
    PAIR_TIMEOUT,
  );
});
