import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunReport } from '../../src/report/run-report.js';
import type { SandboxSeed } from '../../src/sandbox/seed.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/server.js';
import { cli } from '../support/cli.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';

/**
 * Cliniko is the truth (issue 11): what a run believes was written comes from the account it
 * writes to, not from its own state. Every step runs the CLI against sandbox servers, each its own
 * Cliniko account, as a clinic would.
 */
const KEY = 'AccountTruthKey000000000000001-au1';

const seed = (account: string): SandboxSeed => ({
  account: { id: account, name: `Clinic ${account}` },
  users: [{ first_name: 'Ops', last_name: 'Admin', is_practitioner: true, api_key: KEY }],
  businesses: [{ business_name: 'Auckland Central', time_zone_identifier: 'Pacific/Auckland' }],
  practitioners: [{ first_name: 'Hana', last_name: 'Ruru' }],
});

const client = (id: string, n: number) =>
  `${id},Client${n},Lee,c${n}@example.com,021 000 0${String(n).padStart(3, '0')},12/03/198${n % 10}`;
const appointment = (n: number, clientId: string) =>
  `A${n},${clientId},P1,${String((n % 27) + 1).padStart(2, '0')}/05/2024,09:30,T1,L1`;
const letter = (n: number, clientId: string) =>
  `D${n},${clientId},02/05/2024,Referral ${n},letters/d${n}.txt`;

/** Clients `C1`…`Cn` (or the ids given), one appointment and one letter each. */
function exportOf(ids: string[]) {
  const files: Record<string, string> = {
    ...(BASE as Record<string, string>),
    'Clients.csv': csv(
      'ClientId,FirstName,LastName,Email,MobilePhone,DateOfBirth',
      ...ids.map((id, i) => client(id, i + 1)),
    ),
    'Appointments.csv': csv(
      'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId',
      ...ids.map((id, i) => appointment(i + 1, id)),
    ),
    'Letters.csv': csv(
      'LetterId,ClientId,LetterDate,Subject,FilePath',
      ...ids.map((id, i) => letter(i + 1, id)),
    ),
  };
  for (const [i] of ids.entries()) files[`letters/d${i + 1}.txt`] = `Letter ${i + 1}`;
  return writeZip(files);
}

const ids = (n: number, prefix = 'C') => Array.from({ length: n }, (_, i) => `${prefix}${i + 1}`);

let outDir: string;
const sandboxes: Sandbox[] = [];

async function account(id: string, paths?: string[]): Promise<Sandbox> {
  const s = await startSandbox({
    rateLimit: 100_000,
    attachmentProcessingMs: 10,
    seed: seed(id),
    ...(paths ? { observe: (method: string, path: string) => void paths.push(`${method} ${path}`) } : {}),
  });
  sandboxes.push(s);
  return s;
}

const run = (sandbox: Sandbox, zip: string, stateDir: string, name: string, ...more: string[]) =>
  cli(
    'run',
    zip,
    '--mode',
    'live',
    '--cliniko-url',
    sandbox.baseUrl,
    '--state-dir',
    stateDir,
    '--out',
    join(outDir, name),
    ...more,
  );

const report = (name: string) =>
  JSON.parse(readFileSync(join(outDir, name, 'report.json'), 'utf8')) as RunReport;

const live = (s: Sandbox, table: Parameters<Sandbox['state']['count']>[0]) =>
  s.state.count(table, (r) => !r.archived_at);

beforeAll(async () => {
  process.env.CLINIKO_API_KEY = KEY;
  outDir = await tempDir('truth-out-');
});

afterAll(async () => {
  delete process.env.CLINIKO_API_KEY;
  for (const s of sandboxes) await s.close();
});

describe('state scoped to the Cliniko account', { timeout: 240_000 }, () => {
  it('a rehearsal in a trial account, then production from the same state: production gets everything', async () => {
    const stateDir = join(await tempDir('truth-state-'), 'state');
    const zip = await exportOf(ids(6));
    const trial = await account('700001');
    const productionRequests: string[] = [];
    const production = await account('700002', productionRequests);

    const rehearsal = await run(trial, zip, stateDir, 'trial');
    expect(rehearsal.code).toBe(0);
    expect(rehearsal.out).toContain('Clinic 700001');
    expect(report('trial').entities.patients.created).toBe(6);

    const real = await run(production, zip, stateDir, 'production');
    expect(real.code).toBe(0);
    expect(real.out).toContain('Clinic 700002');
    const r = report('production');
    expect(r.cliniko.account).toMatchObject({ shard: 'au1', businesses: ['Auckland Central'], id: '700002' });
    for (const entity of ['patients', 'appointments', 'letters'] as const)
      expect(r.entities[entity]).toMatchObject({ source: 6, created: 6, alreadyPresent: 0, failed: 0 });
    expect(live(production, 'patients')).toBe(6);
    expect(live(production, 'individual_appointments')).toBe(6);
    expect(live(production, 'patient_attachments')).toBe(6);
    // no request named a record of the trial account, and none was refused
    const trialIds = [
      'patients',
      'individual_appointments',
      'patient_attachments',
      'appointment_types',
    ].flatMap((t) => trial.state.all(t as 'patients').map((rec) => rec.id));
    expect(trialIds.length).toBeGreaterThan(18);
    for (const line of productionRequests) for (const id of trialIds) expect(line).not.toContain(id);
    expect(Object.keys(r.cliniko.byStatus).filter((s) => s.startsWith('4'))).toEqual([]);

    const status = await cli('status', r.runId, '--state-dir', stateDir);
    expect(status.out).toMatch(/Cliniko account Clinic 700002 \(au1, id 700002: Auckland Central\)/);
  });
});
