import { readFileSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { DynamoDBClient, ListTablesCommand, ScanCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import dynalite from 'dynalite';
import { NO_FAULTS } from '../../apps/sandbox/faults.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { startSandbox } from '../../apps/sandbox/server.js';
import { keyLabel } from '../../src/cliniko/api-key.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { clinicSeed } from '../support/sandbox.js';
import { keylessEnv, spawnCli } from '../support/spawn-cli.js';

/**
 * Sign-off bound to what was checked, and a clean Ctrl-C, typed as an operator would: the CLI in
 * its own process, in the operator's folder, against Cliniko sandboxes standing in for two
 * clinics' accounts.
 */
const KEY = 'SignOffBindingKey000000000000001-au1';
const seed = clinicSeed(KEY);
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

function exportOf(clients: number) {
  return writeZip({
    ...BASE,
    'Clients.csv': csv(
      'ClientId,FirstName,LastName,DateOfBirth',
      ...range(clients).map((n) => `C${n},Client${n},Lee,12/03/198${n % 10}`),
    ),
    'Appointments.csv': csv(
      'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId',
      ...range(clients).map(
        (n) => `A${n},C${n},P1,${String((n % 27) + 1).padStart(2, '0')}/05/2024,09:30,T1,L1`,
      ),
    ),
  });
}

let account: Sandbox;
let otherAccount: Sandbox;
let home: string;

beforeAll(async () => {
  [account, otherAccount] = await Promise.all([
    startSandbox({ rateLimit: 100_000, seed, faults: { ...NO_FAULTS, latencyMs: 40 } }),
    startSandbox({ rateLimit: 100_000, seed }),
  ]);
  home = await tempDir('operator-');
  writeFileSync(join(home, 'export.zip'), readFileSync(await exportOf(12)));
  writeFileSync(
    join(home, 'migration.json'),
    JSON.stringify({ timeZone: 'Pacific/Auckland', clinicalNotes: 'pdf-per-patient' }),
  );
  writeFileSync(
    join(home, 'other.json'),
    JSON.stringify({ timeZone: 'Australia/Sydney', clinicalNotes: 'pdf-per-note' }),
  );
});

afterAll(async () => {
  await Promise.all([account?.close(), otherAccount?.close()]);
});

const envFor = (sandbox: Sandbox) => keylessEnv({ CLINIKO_API_KEY: KEY, CLINIKO_BASE_URL: sandbox.baseUrl });

async function patientsIn(sandbox: Sandbox): Promise<string[]> {
  const refs: string[] = [];
  let url: string | undefined = `${sandbox.baseUrl}/patients?per_page=100`;
  while (url) {
    const res = await fetch(url, {
      headers: {
        Authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`,
        Accept: 'application/json',
        'User-Agent': 'cliniko-migrate tests (ops@example.com)',
      },
    });
    const page = (await res.json()) as {
      patients: { old_reference_id: string }[];
      links?: { next?: string };
    };
    refs.push(...page.patients.map((p) => p.old_reference_id));
    url = page.links?.next;
  }
  return refs;
}

/**
 * Records a writer had claimed (was creating in Cliniko) and never finished nor released, read
 * from the status table the run keeps in its state folder.
 */
async function claimsLeftIn(statePath: string): Promise<number> {
  const server = dynalite({ path: statePath });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  try {
    const { port } = server.address() as AddressInfo;
    const db = new DynamoDBClient({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
    });
    let claims = 0;
    for (const table of (await db.send(new ListTablesCommand({}))).TableNames ?? []) {
      const res = await db.send(
        new ScanCommand({
          TableName: table,
          FilterExpression: 'attribute_exists(claimOwner) AND attribute_not_exists(clinikoId)',
        }),
      );
      claims += res.Count ?? 0;
    }
    db.destroy();
    return claims;
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}

async function countIn(sandbox: Sandbox, resource: string): Promise<number> {
  const res = await fetch(`${sandbox.baseUrl}/${resource}?per_page=1`, {
    headers: {
      Authorization: `Basic ${Buffer.from(`${KEY}:`).toString('base64')}`,
      Accept: 'application/json',
      'User-Agent': 'cliniko-migrate tests (ops@example.com)',
    },
  });
  return ((await res.json()) as { total_entries: number }).total_entries;
}

describe('approval binds the export, the configuration and the Cliniko account', () => {
  it('refuses a live run under an approval made with another config or another account, and prints the live command that works', async () => {
    const dry = await spawnCli(['run', 'export.zip', '--config', 'migration.json', '--state-dir', 'state'], {
      cwd: home,
      env: envFor(account),
    });
    expect(dry.code).toBe(0);
    const runId = /approve (run-[0-9a-f]+)/.exec(dry.out)?.[1] ?? '';
    expect(runId).not.toBe('');

    const approved = await spawnCli(['approve', runId, '--by', 'Jo Manager', '--state-dir', 'state'], {
      cwd: home,
      env: envFor(account),
    });
    expect(approved.code).toBe(0);
    expect(approved.out).toContain('by Jo Manager');
    expect(approved.out).toContain('clinicalNotes pdf-per-patient');
    expect(approved.out).toContain(`Cliniko au1 at ${account.baseUrl} with key ${keyLabel(KEY)}`);
    const live = /^ {2}(cliniko-migrate run .+)$/m.exec(approved.out)?.[1] ?? '';
    expect(live).toBe(
      `cliniko-migrate run ${join(home, 'export.zip')} --config ${join(home, 'migration.json')} --mode live --require-approval --state-dir ${join(home, 'state')}`,
    );
    const approval = JSON.parse(
      readFileSync(
        join(
          home,
          'state',
          'approvals',
          `${JSON.parse(readFileSync(join(home, 'state', 'runs', `${runId}.json`), 'utf8')).sha256}.json`,
        ),
        'utf8',
      ),
    );
    expect(approval.approvedBy).toBe('Jo Manager');
    expect(JSON.stringify(approval)).not.toContain(KEY);

    const otherConfig = await spawnCli(
      [
        'run',
        'export.zip',
        '--config',
        'other.json',
        '--mode',
        'live',
        '--require-approval',
        '--state-dir',
        'state',
      ],
      { cwd: home, env: envFor(account) },
    );
    expect(otherConfig.code).toBe(2);
    expect(otherConfig.err).toContain('its configuration differs');
    expect(otherConfig.err).toContain('clinicalNotes: approved "pdf-per-patient", now "pdf-per-note"');
    expect(otherConfig.err).toContain('timeZone: approved "Pacific/Auckland", now "Australia/Sydney"');

    const otherTarget = await spawnCli(
      [
        'run',
        'export.zip',
        '--config',
        'migration.json',
        '--mode',
        'live',
        '--require-approval',
        '--state-dir',
        'state',
      ],
      { cwd: home, env: envFor(otherAccount) },
    );
    expect(otherTarget.code).toBe(2);
    expect(otherTarget.err).toContain('it goes to another Cliniko account');
    expect(otherTarget.err).toContain(otherAccount.baseUrl);
    expect(await patientsIn(otherAccount)).toEqual([]);
    expect(await patientsIn(account)).toEqual([]);
  }, 240_000);
});

describe('Ctrl-C during a live run', () => {
  it('lets the writes in flight finish, records the run interrupted with counts that match Cliniko, exits 130, and the same command resumes without duplicating anything', async () => {
    const args = [
      'run',
      'export.zip',
      '--config',
      'migration.json',
      '--mode',
      'live',
      '--state-dir',
      'live-state',
    ];
    const started = spawnCli(args, { cwd: home, env: envFor(account) });
    // Once patients are being written, every request takes a second and a half: the writes under
    // way when Ctrl-C comes are still waiting for Cliniko's answer.
    const deadline = Date.now() + 120_000;
    while (account.state.count('patients') < 1 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    account.faults = { ...NO_FAULTS, latencyMs: 1_500 };
    await new Promise((r) => setTimeout(r, 600));
    started.child.kill('SIGINT');
    const stopped = await started;
    account.faults = { ...NO_FAULTS, latencyMs: 40 };
    expect(stopped.code).toBe(130);
    expect(stopped.err).toContain('letting the writes in flight finish');
    expect(stopped.err).toContain('Run the same command again to resume');
    const runId = /run (run-[0-9a-f]+) stopped and recorded interrupted/.exec(stopped.err)?.[1] ?? '';
    expect(runId).not.toBe('');
    // Nothing reached Cliniko that the run did not record: what Cliniko holds now is what the
    // interrupted run counts as written (a write cut off would be in Cliniko and not counted).
    await new Promise((r) => setTimeout(r, 2_000));
    // Writes under way finished (or gave their claim back): none is left half done for the next
    // run to wait out.
    expect(await claimsLeftIn(join(home, 'live-state', 'status-table'))).toBe(0);
    const written = await patientsIn(account);
    const writtenAppointments = await countIn(account, 'individual_appointments');
    expect(written.length).toBeGreaterThan(0);
    expect(written.length + writtenAppointments).toBeLessThan(24);
    const status = await spawnCli(['status', runId, '--state-dir', 'live-state'], { cwd: home });
    expect(status.code).toBe(0);
    expect(status.out).toContain(`Run ${runId}: live of export.zip, interrupted`);
    expect(status.out).toContain('run the same command again to resume');
    expect(status.out).toMatch(new RegExp(`Patients\\s+${written.length}\\s+12\\b`));
    if (writtenAppointments > 0)
      expect(status.out).toMatch(new RegExp(`Appointments\\s+${writtenAppointments}\\s+12\\b`));

    const resumed = await spawnCli(args, { cwd: home, env: envFor(account) });
    expect(resumed.code).toBe(0);
    const refs = await patientsIn(account);
    expect(refs.length).toBe(12);
    expect(new Set(refs).size).toBe(12);
    expect(await countIn(account, 'individual_appointments')).toBe(12);
    const report = JSON.parse(
      readFileSync(/Report: (.*report\.json)/.exec(resumed.out)?.[1] ?? join(home, 'missing'), 'utf8'),
    );
    // the same command resumes the interrupted run under its id: one run, one report of all it created
    expect(resumed.out).toContain(`Resuming run ${runId}`);
    expect(report.runId).toBe(runId);
    expect(report.entities.patients).toMatchObject({ created: 12, alreadyPresent: 0 });
    const again = await spawnCli(['status', runId, '--state-dir', 'live-state'], { cwd: home });
    expect(again.out).toContain(`Run ${runId}: live of export.zip, succeeded`);
    expect(again.out).toMatch(/Course: started [^;]+; interrupted [^;]+; resumed [^;]+; finished /);
  }, 300_000);
});
