import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { startSandbox } from '../../apps/sandbox/server.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { keylessEnv, spawnCli } from '../support/spawn-cli.js';

const CLIENTS = csv('ClientId,FirstName,LastName', 'C1,Ann,Lee', 'C2,Bo,Chan');

describe('the operator runs cliniko-migrate from their own folder', () => {
  it("runs from a folder other than the project, with relative paths, and keeps its state in the user's state folder", async () => {
    const home = await tempDir('operator-');
    writeFileSync(
      join(home, 'export.zip'),
      readFileSync(await writeZip({ ...BASE, 'Clients.csv': CLIENTS })),
    );
    const env = keylessEnv({ XDG_STATE_HOME: join(home, 'xdg-state') });
    delete env.CLINIKO_MIGRATE_STATE_DIR;
    const res = await spawnCli(['run', 'export.zip', '--sandbox', '--out', 'report'], { cwd: home, env });
    expect(res.err).not.toContain('CannotFindPackageLockFile');
    expect(res.code).toBe(0);
    const report = JSON.parse(readFileSync(join(home, 'report', 'report.json'), 'utf8'));
    expect(report.entities.patients).toMatchObject({ source: 2, planned: 2 });
    expect(existsSync(join(home, 'xdg-state', 'cliniko-migrate', 'runs', `${report.runId}.json`))).toBe(true);
    expect(existsSync(join(home, '.cliniko-migrate'))).toBe(false);
    expect(res.out).toContain('embedded Cliniko sandbox');
  }, 240_000);

  it('refuses what is not an export with exit 2, saying what was expected, before contacting Cliniko', async () => {
    const home = await tempDir('operator-');
    mkdirSync(join(home, 'empty'));
    writeFileSync(join(home, 'clients-only.zip'), readFileSync(await writeZip({ 'Clients.csv': CLIENTS })));
    writeFileSync(
      join(home, 'photos.zip'),
      readFileSync(await writeZip({ 'readme.txt': 'hello', 'scan.pdf': '%PDF-1.4' })),
    );
    writeFileSync(join(home, 'Patients.csv'), CLIENTS);
    // A Cliniko URL nobody listens on: a refusal that contacted Cliniko would fail differently.
    const env = keylessEnv({
      CLINIKO_API_KEY: 'k'.repeat(40).concat('-au1'),
      CLINIKO_BASE_URL: 'http://127.0.0.1:9/v1',
    });
    const [empty, clientsOnly, photos, lone] = await Promise.all(
      ['empty', 'clients-only.zip', 'photos.zip', 'Patients.csv'].map((p) =>
        spawnCli(['run', p], { cwd: home, env }),
      ),
    );
    expect(empty?.code).toBe(2);
    expect(empty?.err).toContain('empty is empty: expected a Gensolve Practice Manager export');
    expect(clientsOnly?.code).toBe(2);
    expect(clientsOnly?.err).toContain('holds Clients.csv alone, not a whole export');
    expect(photos?.code).toBe(2);
    expect(photos?.err).toContain('holds no table of a Gensolve Practice Manager export');
    expect(lone?.code).toBe(2);
    expect(lone?.err).toContain('Patients.csv is not a readable zip archive');
    expect(lone?.err).toContain('expected the export as a .zip');
    for (const r of [empty, clientsOnly, photos, lone]) {
      expect(r?.err).not.toMatch(/ECONNREFUSED|at .*\.ts:\d+/);
      expect(r?.out).not.toContain('Report:');
    }
  }, 60_000);

  it('refuses --cliniko-url without an API key instead of running into a throwaway sandbox', async () => {
    const home = await tempDir('operator-');
    writeFileSync(
      join(home, 'export.zip'),
      readFileSync(await writeZip({ ...BASE, 'Clients.csv': CLIENTS })),
    );
    const res = await spawnCli(
      ['run', 'export.zip', '--mode', 'live', '--cliniko-url', 'https://api.au1.cliniko.com/v1'],
      { cwd: home },
    );
    expect(res.code).toBe(2);
    expect(res.err).toContain('--cliniko-url https://api.au1.cliniko.com/v1 needs an API key');
    expect(res.out).not.toContain('sandbox');
    expect(existsSync(join(home, 'out'))).toBe(false);
  }, 60_000);
});

describe('a dry run nobody could act on is blocked, and cannot be approved', () => {
  it('lists the unmatched practitioner with the fix, records the run blocked, and approve refuses it', async () => {
    const key = 'BlockedDryRunKey0000000000000001-au1';
    const account = await startSandbox({
      rateLimit: 100_000,
      seed: {
        users: [{ first_name: 'Ops', last_name: 'Admin', is_practitioner: true, api_key: key }],
        businesses: [{ business_name: 'Auckland Central', time_zone_identifier: 'Pacific/Auckland' }],
        practitioners: [{ first_name: 'Someone', last_name: 'Else' }],
      },
    });
    try {
      const home = await tempDir('operator-');
      writeFileSync(
        join(home, 'export.zip'),
        readFileSync(
          await writeZip({
            ...BASE,
            'Clients.csv': CLIENTS,
            'Appointments.csv': csv(
              'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId',
              'A1,C1,P1,02/05/2024,09:30,T1,L1',
            ),
          }),
        ),
      );
      const env = keylessEnv({ CLINIKO_API_KEY: key, CLINIKO_BASE_URL: account.baseUrl });
      const dry = await spawnCli(['run', 'export.zip', '--out', 'report', '--state-dir', 'state'], {
        cwd: home,
        env,
      });
      expect(dry.code).toBe(0);
      expect(dry.out).toContain('Blocked: this dry run cannot go live');
      expect(dry.out).toContain(
        'Practitioner Hana Ruru (P1) matches no Cliniko practitioner by name: create them in Cliniko with that name, or map them in migration.json "practitioners": {"P1": "<Cliniko practitioner id>"}',
      );
      expect(dry.out).not.toContain('When the report is right');
      const report = JSON.parse(readFileSync(join(home, 'report', 'report.json'), 'utf8'));
      expect(report.status).toBe('blocked');
      expect(report.entities.appointments.invalid).toBe(1);
      const approve = await spawnCli(['approve', report.runId, '--state-dir', 'state'], { cwd: home, env });
      expect(approve.code).toBe(2);
      expect(approve.err).toContain(`dry run ${report.runId} is blocked`);
      expect(existsSync(join(home, 'state', 'approvals'))).toBe(false);
    } finally {
      await account.close();
    }
  }, 240_000);

  it('seeds the embedded sandbox with the "Former practitioner" the configuration presumes', async () => {
    const home = await tempDir('operator-');
    writeFileSync(
      join(home, 'export.zip'),
      readFileSync(await writeZip({ ...BASE, 'Clients.csv': CLIENTS })),
    );
    writeFileSync(
      join(home, 'migration.json'),
      JSON.stringify({ unmatchedPractitioners: 'former-practitioner' }),
    );
    const res = await spawnCli(['run', 'export.zip', '--sandbox', '--config', 'migration.json'], {
      cwd: home,
    });
    expect(res.err).not.toContain('Former practitioner');
    expect(res.code).toBe(0);
    expect(res.out).toContain('When the report is right');
  }, 240_000);
});
