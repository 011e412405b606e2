import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { runLocal } from '../../apps/local/run-local.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import type { RunReport } from '../../src/report/run-report.js';
import { cli } from '../support/cli.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { clinicSandbox } from '../support/sandbox.js';

/**
 * A run that stops still ends in a report (issue 13, point 6): a step that throws, on the real
 * state machine and handlers, and a CSV whose quote never closes.
 */
const KEY = 'FailedRunKey000000000000000001-au1';
let sandbox: Sandbox;

beforeAll(async () => {
  sandbox = await clinicSandbox(KEY);
});
afterAll(async () => {
  await sandbox?.close();
});

const CLIENTS = csv('ClientId,FirstName,LastName', 'C1,Ann,Lee', 'C2,Bo,Chan');

describe('a failed execution', () => {
  it('ends in the three report files saying where it stopped, why, and what was done', async () => {
    const zip = await writeZip({
      ...BASE,
      'Clients.csv': CLIENTS,
      'Appointments.csv': csv(
        'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,LocationId,AppointmentTypeId',
        'A1,C1,P1,13/03/2025,10:00,L1,T1',
      ),
    });
    const dir = await tempDir('failed-run-');
    const result = await runLocal(
      {
        exportZip: zip,
        mode: 'live',
        credentials: { apiKeys: [KEY], baseUrl: sandbox.baseUrl },
        rateLimitPerMinute: 100_000,
        visibilityTimeoutSeconds: 1,
        // a mapper that throws: a bug, or a batch it cannot read
        wrapTask: (state, handler) =>
          state === 'MapBatchAppointments'
            ? async () => {
                throw new TypeError("Cannot read properties of undefined (reading 'x')");
              }
            : handler,
      },
      (runId) => join(dir, runId),
    );
    for (const file of Object.values(result.files)) expect(existsSync(file)).toBe(true);
    const report = JSON.parse(readFileSync(result.files.json, 'utf8')) as RunReport;
    expect(report.status).toBe('failed');
    const stopped = report.problems.filter((p) => p.code === 'EXECUTION_FAILED');
    expect(stopped).toHaveLength(1);
    expect(stopped[0]?.field).toBe('MapAppointments');
    expect(stopped[0]?.message).toContain("TypeError: Cannot read properties of undefined (reading 'x')");
    expect(stopped[0]?.message).not.toMatch(/\n|\s+at\s/);
    // what was done before it stopped is still counted
    expect(report.entities.patients).toMatchObject({ source: 2, created: 2 });
    expect(readFileSync(result.files.csv, 'utf8')).toContain('EXECUTION_FAILED');
    expect(readFileSync(result.files.html, 'utf8')).toContain('EXECUTION_FAILED');
  }, 120_000);

  it('from the CLI: one line naming the step and the report, no stack trace, exit 1', async () => {
    // A zip whose Clients.csv is damaged after the reference tables were read: Plan cannot read it.
    const zip = await writeZip({ ...BASE, 'Clients.csv': CLIENTS.repeat(400) });
    const bytes = readFileSync(zip);
    const name = Buffer.from('Clients.csv');
    const at = bytes.indexOf(name) + name.length + 40;
    for (let i = at; i < at + 60; i++) bytes[i] = 0xff;
    const { writeFileSync } = await import('node:fs');
    writeFileSync(zip, bytes);
    const out = await tempDir('failed-cli-');
    const { code, err } = await cli('run', zip, '--mode', 'live', '--sandbox', '--out', out);
    expect(code).toBe(1);
    const lines = err.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^cliniko-migrate: the run stopped in Plan: .+ \(report: .+report\.json\)$/);
    for (const f of ['report.json', 'problems.csv', 'report.html'])
      expect(existsSync(join(out, f))).toBe(true);
  }, 120_000);
});

describe('a quote never closed', () => {
  it('keeps the rows before it, reports the rest at its row, and the run finishes', async () => {
    const zip = await writeZip({
      ...BASE,
      'Clients.csv': csv(
        'ClientId,FirstName,LastName,Notes',
        'K1,Kim,Lee,Fine',
        'K2,Kai,Chan,"Starts a note',
        'K3,Cy,Dee,never read',
        'K4,Di,Eve,never read',
      ),
    });
    const dir = await tempDir('unterminated-');
    const result = await runLocal(
      {
        exportZip: zip,
        mode: 'live',
        credentials: { apiKeys: [KEY], baseUrl: sandbox.baseUrl },
        rateLimitPerMinute: 100_000,
        visibilityTimeoutSeconds: 1,
      },
      (runId) => join(dir, runId),
    );
    expect(result.report.status).toBe('succeeded');
    expect(result.report.entities.patients).toMatchObject({ source: 2, created: 1, invalid: 1 });
    const problem = result.report.problems.find((p) => p.code === 'UNTERMINATED_QUOTE');
    expect(problem).toMatchObject({ file: 'Clients.csv', row: 3, field: 'Notes', severity: 'error' });
    const refs = sandbox.state.all('patients').map((p) => p.old_reference_id);
    expect(refs).toContain('K1');
    expect(refs).not.toContain('K2');
    expect(refs).not.toContain('K3');
  }, 120_000);
});
