import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { keylessEnv, spawnCli } from '../support/spawn-cli.js';

const CLIENTS = csv('ClientId,FirstName,LastName', 'C1,Ann,Lee', 'C2,Bo,Chan');

describe('the operator runs cliniko-migrate from their own folder', () => {
  it('runs from a folder other than the project, with relative paths, and keeps its state there', async () => {
    const home = await tempDir('operator-');
    writeFileSync(
      join(home, 'export.zip'),
      readFileSync(await writeZip({ ...BASE, 'Clients.csv': CLIENTS })),
    );
    const res = await spawnCli(['run', 'export.zip', '--sandbox', '--out', 'report'], { cwd: home });
    expect(res.err).not.toContain('CannotFindPackageLockFile');
    expect(res.code).toBe(0);
    const report = JSON.parse(readFileSync(join(home, 'report', 'report.json'), 'utf8'));
    expect(report.entities.patients).toMatchObject({ source: 2, planned: 2 });
    expect(existsSync(join(home, '.cliniko-migrate', 'runs', `${report.runId}.json`))).toBe(true);
    expect(res.out).toContain('embedded Cliniko sandbox');
  }, 120_000);

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
