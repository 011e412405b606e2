import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { csvCell, problemsCsv } from '../../src/report/run-report.js';
import { cli } from '../support/cli.js';
import { BASE, csv, tempDir, writeFolder, writeZip } from '../support/exports.js';

const BIN = new URL('../../bin/cliniko-migrate.js', import.meta.url).pathname;

const run = (args: string[]) => cli(...args);

// The CLI keeps its run records in `.cliniko-migrate/` of the working directory: run it from a
// temp folder (the contract says it works from any), so the repo stays as it was.
const repoDir = process.cwd();
beforeAll(async () => process.chdir(await tempDir('cwd-')));
afterAll(() => process.chdir(repoDir));

describe('cliniko-migrate run --in-process', () => {
  it("prints each table as it is mapped and the pipeline's summary, writes its report files, and can be approved", async () => {
    const exportPath = await writeFolder({
      ...BASE,
      'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee', 'C2,,Missing', 'C1,Ann,Again'),
      'Appointments.csv': csv(
        'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,LocationId,AppointmentTypeId',
        'A1,C1,P1,01/02/2024,09:00,L1,T1',
      ),
      'Invoices.csv': csv('InvoiceId,Total', 'I1,10'),
    });
    const dir = await tempDir();
    const out = join(dir, 'report');
    const state = join(dir, 'state');
    const args = ['run', exportPath, '--in-process', '--sandbox', '--out', out, '--state-dir', state];
    const { code, out: stdout } = await run(args);
    expect(code).toBe(0);
    expect(stdout).toContain('in one process: nothing is written to Cliniko');
    // the repeated key Plan kept out of the batches is a row read all the same
    expect(stdout).toContain('read clients (Clients.csv): 3 rows');
    expect(stdout).toContain('read appointments (Appointments.csv): 1 rows');
    expect(stdout).toMatch(/Patients\s+3\s+1\s+0\s+0\s+0\s+1\s+1/);
    expect(stdout).toContain('not transferable (counted, not migrated): Invoices 1');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({ mode: 'dry-run', status: 'succeeded', excluded: { invoices: 1 } });
    expect(report.runId).toMatch(/^run-[0-9a-f]{40}$/);
    expect(report.entities.appointments).toMatchObject({ source: 1, planned: 1 });
    expect(readdirSync(out).sort()).toEqual(['audit.csv', 'problems.csv', 'report.html', 'report.json']);
    expect(stdout).toContain(`cliniko-migrate approve ${report.runId}`);
    const approved = await run(['approve', report.runId, '--state-dir', state]);
    expect(approved.code).toBe(0);
  }, 120_000);

  it('exits 2 naming the field when the clinic setup fails preflight', async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, 'migration.json'), JSON.stringify({ practitioners: { P1: '999' } }));
    const exportPath = await writeFolder({
      ...BASE,
      'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee'),
    });
    const res = await run(
      ['run', exportPath, '--in-process', '--sandbox', '--config', join(dir, 'migration.json')].concat([
        '--out',
        join(dir, 'out'),
        '--state-dir',
        join(dir, 'state'),
      ]),
    );
    expect(res.code).toBe(2);
    expect(res.err).toContain('practitioners.P1: Cliniko has no practitioner 999');
    expect(JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'))).toMatchObject({
      status: 'failed',
    });
  }, 120_000);
});

describe('cliniko-migrate run --mode dry-run', () => {
  it('writes report.json, problems.csv and report.html into --out and exits 0 despite invalid rows', async () => {
    const exportPath = await writeFolder({
      ...BASE,
      'manifest.json': JSON.stringify({ system: 'Gensolve Practice Manager', timeZone: 'Pacific/Auckland' }),
      'Clients.csv': csv(
        'ClientId,FirstName,LastName,Notes',
        'C1,Ann,Lee,=HYPERLINK("http://x")',
        'C2,,Missing,',
      ),
      'Invoices.csv': csv('InvoiceId,Total', 'I1,10', 'I2,20'),
    });
    const out = join(await tempDir(), 'report');
    const { code, out: stdout } = await run([
      'run',
      exportPath,
      '--mode',
      'dry-run',
      '--out',
      out,
      '--sandbox',
    ]);
    expect(code).toBe(0);
    expect(stdout).toContain('Report:');
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report).toMatchObject({
      mode: 'dry-run',
      status: 'succeeded',
      source: { system: 'gensolve' },
      excluded: { invoices: 2 },
    });
    expect(report.runId).toMatch(/^run-[0-9a-f]{40}$/);
    expect(report.entities.patients).toMatchObject({ source: 2, planned: 1, invalid: 1, created: 0 });
    expect(report.problems.find((p: { code: string }) => p.code === 'REQUIRED_MISSING')).toMatchObject({
      entity: 'patients',
      file: 'Clients.csv',
      row: 3,
      field: 'FirstName',
      code: 'REQUIRED_MISSING',
      severity: 'error',
    });
    expect(report.cliniko.requests).toBeGreaterThan(0);
    const problems = readFileSync(join(out, 'problems.csv'), 'utf8');
    expect(problems.split('\r\n')[0]).toBe('entity,sourceId,patient,file,row,field,code,severity,message');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<table>');
  }, 120_000);

  it('exits 2 naming the file for a bad configuration, a missing export or an AEM export', async () => {
    const dir = await tempDir();
    writeFileSync(join(dir, 'migration.json'), JSON.stringify({ timeZone: 'Nowhere/Land' }));
    const bad = await run(['run', await writeFolder(BASE), '--config', join(dir, 'migration.json')]);
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('migration.json: timeZone');
    const absent = await run(['run', await writeFolder(BASE), '--config', join(dir, 'clinic.json')]);
    expect(absent.code).toBe(2);
    expect(absent.err).toContain(`no configuration file at ${join(dir, 'clinic.json')}`);
    writeFileSync(join(dir, 'typo.json'), '{\n  "timeZone": "Pacific/Auckland",\n}');
    const typo = await run(['run', await writeFolder(BASE), '--config', join(dir, 'typo.json')]);
    expect(typo.code).toBe(2);
    expect(typo.err).toContain(`${join(dir, 'typo.json')}:2:33: not valid JSON`);
    const missing = await run(['run', join(dir, 'nope.zip')]);
    expect(missing).toMatchObject({ code: 2 });
    expect(missing.err).toContain('nope.zip');
    const aem = await run([
      'run',
      await writeZip({ 'manifest.json': JSON.stringify({ system: 'Audio Enterprise Manager' }) }),
    ]);
    expect(aem.code).toBe(2);
    expect(aem.err).toContain('AEM');
  });

  it('exits 2 naming the field when the clinic setup fails preflight', async () => {
    const dir = await tempDir();
    writeFileSync(
      join(dir, 'migration.json'),
      JSON.stringify({ timeZone: 'Pacific/Auckland', practitioners: { P1: '999' } }),
    );
    const exportPath = await writeFolder({
      ...BASE,
      'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee'),
    });
    const res = await run([
      'run',
      exportPath,
      '--config',
      join(dir, 'migration.json'),
      '--sandbox',
      '--out',
      join(dir, 'out'),
    ]);
    expect(res.code).toBe(2);
    expect(res.err).toContain('practitioners.P1: Cliniko has no practitioner 999');
    expect(JSON.parse(readFileSync(join(dir, 'out', 'report.json'), 'utf8'))).toMatchObject({
      status: 'failed',
    });
  }, 120_000);

  it('removes its working copy of an unpacked export, unless asked to keep it', async () => {
    const exportPath = await writeFolder({
      ...BASE,
      'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee'),
    });
    const copies = () => new Set(readdirSync(tmpdir()).filter((d) => d.startsWith('cliniko-export-')));
    const before = copies();
    const out = join(await tempDir(), 'report');
    const { code } = await run(['run', exportPath, '--mode', 'dry-run', '--out', out, '--sandbox']);
    expect(code).toBe(0);
    expect([...copies()].filter((d) => !before.has(d))).toEqual([]);

    const kept = await run([
      'run',
      exportPath,
      '--mode',
      'dry-run',
      '--out',
      out,
      '--sandbox',
      '--keep-work',
    ]);
    const path = /Working copy kept: (.+)$/m.exec(kept.out)?.[1] ?? '';
    expect(existsSync(path)).toBe(true);
    rmSync(dirname(path), { recursive: true, force: true });
  }, 120_000);

  it('runs from the command line through npx', () => {
    const res = spawnSync(process.execPath, [BIN, 'run'], { encoding: 'utf8' });
    expect(res.status).toBe(2);
    expect(res.stderr).toContain("missing required argument 'export'");
  });
});

describe('problems.csv', () => {
  it('escapes cells a spreadsheet would run as formulas, and quotes CSV specials', () => {
    expect(['=1+1', '+SUM(A1)', '-2', '@cmd', 'plain'].map(csvCell)).toEqual([
      "'=1+1",
      "'+SUM(A1)",
      "'-2",
      "'@cmd",
      'plain',
    ]);
    expect(csvCell('a,"b"\nc')).toBe('"a,""b""\nc"');
    const text = problemsCsv([
      {
        entity: 'patients',
        sourceId: '=cmd',
        file: 'Clients.csv',
        row: 2,
        field: 'Notes',
        code: 'X',
        severity: 'warning',
        message: '@evil, "quoted"',
        patient: '=HYPERLINK("x"), Jane (C9)',
      },
    ]);
    expect(text.split('\r\n')[1]).toBe(
      `patients,'=cmd,"'=HYPERLINK(""x""), Jane (C9)",Clients.csv,2,Notes,X,warning,"'@evil, ""quoted"""`,
    );
  });
});
