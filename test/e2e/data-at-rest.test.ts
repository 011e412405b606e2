import { readdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { basename, join, relative } from 'node:path';
import {
  type AttributeValue,
  DynamoDBClient,
  ListTablesCommand,
  ScanCommand,
} from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, it } from '@jest/globals';
import dynalite from 'dynalite';
import { generateExport } from '../../apps/generate/generate-export.js';
import { csvRecordsOf, tempDir } from '../support/exports.js';
import { keylessEnv, spawnCli } from '../support/spawn-cli.js';

/**
 * Patient data at rest (issue 23): a dry run and a live run of a generated export with notes, on
 * the local runtime into the embedded sandbox, then every file the runs leave (the state folder,
 * its status table read item by item as well as byte by byte, the report folders) and everything
 * the CLI printed is searched for the export's names, dates of birth (as exported and ISO),
 * e-mails, phones and note text. They may be only where a person reads them about the run: the report files.
 */

/** Where patient data may be, by file name, and why (docs/DATA-PROTECTION.md, Local runs). */
const ALLOWED: Readonly<Record<string, string>> = {
  'report.json': 'the report: its sampled clients field by field, and names beside ids',
  'report.html': 'the report page, the same as report.json',
  'problems.csv': 'problems name the client and the value at fault',
  // The embedded sandbox stands in for the clinic's Cliniko account, kept between the rehearsal's
  // steps (issue 26): it holds what the live run wrote into "Cliniko", as Cliniko would.
  'cliniko-account.json': "the embedded sandbox's account: the rehearsal's Cliniko, not the run's state",
};

interface Place {
  readonly where: string;
  readonly text: string;
}

async function filesUnder(root: string): Promise<string[]> {
  const out: string[] = [];
  for (const d of await readdir(root, { withFileTypes: true })) {
    const full = join(root, d.name);
    if (d.isDirectory()) out.push(...(await filesUnder(full)));
    else out.push(full);
  }
  return out;
}

/** Every item of every table of the dynalite store at `path`, as JSON (LevelDB compresses its files). */
async function statusItems(path: string): Promise<string> {
  const server = dynalite({ path });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const { port } = server.address() as AddressInfo;
  const client = new DynamoDBClient({
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
  });
  const items: unknown[] = [];
  try {
    for (const table of (await client.send(new ListTablesCommand({}))).TableNames ?? []) {
      let start: Record<string, AttributeValue> | undefined;
      do {
        const page = await client.send(
          new ScanCommand({ TableName: table, ...(start ? { ExclusiveStartKey: start } : {}) }),
        );
        items.push(...(page.Items ?? []));
        start = page.LastEvaluatedKey;
      } while (start);
    }
  } finally {
    client.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
  expect(items.length).toBeGreaterThan(100);
  return JSON.stringify(items);
}

let home = '';
let places: Place[] = [];
let clients: Record<string, string>[] = [];
let notes: Record<string, string>[] = [];
const codes: (number | null)[] = [];

beforeAll(async () => {
  home = await tempDir('at-rest-');
  const zip = join(home, 'export.zip');
  await generateExport(zip, { patients: 30, appointmentsPerPatient: 3, seed: 23 });
  clients = await csvRecordsOf(zip, 'Clients.csv');
  notes = await csvRecordsOf(zip, 'ClinicalNotes.csv');
  const state = join(home, 'state');
  const env = keylessEnv({ CLINIKO_MIGRATE_STATE_DIR: state });
  const common = ['--sandbox', '--sandbox-rate-limit', '5000'];
  const printed: Place[] = [];
  for (const [mode, out] of [
    ['dry-run', 'out-dry'],
    ['live', 'out-live'],
  ] as const) {
    const r = await spawnCli(['run', 'export.zip', ...common, '--mode', mode, '--out', out], {
      cwd: home,
      env,
    });
    codes.push(r.code);
    printed.push({ where: `${mode} stdout`, text: r.out }, { where: `${mode} stderr`, text: r.err });
  }
  const files = await filesUnder(home);
  places = [
    ...printed,
    ...(await Promise.all(
      files
        .filter((f) => f !== zip)
        .map(async (f) => ({ where: relative(home, f), text: (await readFile(f)).toString('utf8') })),
    )),
    { where: 'state/status-table (items)', text: await statusItems(join(state, 'status-table')) },
  ];
}, 600_000);

/** What identifies each client of the export, as it may be written anywhere. */
function identifiers(): { what: string; value: string }[] {
  const list: { what: string; value: string }[] = [];
  const add = (what: string, value: string | undefined) => {
    if (value && value.length >= 5) list.push({ what, value });
  };
  for (const c of clients) {
    add('name', `${c.firstname} ${c.lastname}`);
    if (c.preferredname) add('name', `${c.firstname} (${c.preferredname}) ${c.lastname}`);
    add('e-mail', c.email);
    for (const phone of [c.mobilephone, c.homephone, c.workphone]) {
      add('phone', phone);
      add('phone digits', phone?.replace(/\D/g, ''));
    }
    add('date of birth', c.dateofbirth);
    const dob = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(c.dateofbirth ?? '');
    if (dob) add('date of birth (ISO)', `${dob[3]}-${dob[2]}-${dob[1]}`);
  }
  // Note text: each section's first line, long enough to be the note's own words.
  for (const n of notes)
    for (const section of [n.subjective, n.objective, n.assessment, n.plan, n.body]) {
      const line = section?.split('\n')[0]?.trim() ?? '';
      if (line.length >= 20 && !list.some((i) => i.value === line))
        list.push({ what: 'note text', value: line });
    }
  return list;
}

describe('patient data a run leaves at rest', () => {
  it('ran a dry run and a live run, and reads every place they left', () => {
    expect(codes).toEqual([0, 0]);
    expect(clients.length).toBeGreaterThanOrEqual(30);
    expect(identifiers().filter((i) => i.what === 'note text').length).toBeGreaterThan(0);
    const where = places.map((p) => p.where);
    for (const expected of [
      'out-live/report.json',
      'out-dry/report.json',
      'out-live/audit.csv',
      'state/runs',
    ])
      expect(where.some((w) => w.startsWith(expected))).toBe(true);
    expect(where.some((w) => w.startsWith('state/status-table/'))).toBe(true);
  });

  it('is nowhere but the report files (and the sandbox standing in for Cliniko)', () => {
    const found: string[] = [];
    const ids = identifiers();
    for (const place of places) {
      if (ALLOWED[basename(place.where)]) continue;
      for (const { what, value } of ids)
        if (place.text.includes(value)) found.push(`${what} "${value}" in ${place.where}`);
    }
    expect(found).toEqual([]);
  });

  it('is in the report, where a person reads it: the clients it mentions are named', () => {
    const report = places.find((p) => p.where === 'out-live/report.json')?.text ?? '';
    const named = identifiers().filter((i) => i.what === 'name' && report.includes(i.value));
    expect(named.length).toBeGreaterThan(0);
    expect(report).toMatch(/"clientName":/);
    // problems of a client's row, and of a child row whose client the export holds, name them
    const dry = places.find((p) => p.where === 'out-dry/report.json')?.text ?? '';
    expect(dry).toMatch(/"entity":"patients","sourceId":"(C\d+)"[^}]*"patient":"[^"]+ \(\1\)"/);
    expect(dry).toMatch(/"clientSourceId":"(C\d+)","patient":"[^"]+ \(\1\)"/);
  });
});
