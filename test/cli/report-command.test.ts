import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { cli } from '../support/cli.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';

describe('cliniko-migrate report', () => {
  it("prints the latest run's summary and files, and makes report.html again from report.json", async () => {
    const stateDir = await tempDir('state-');
    const out = join(await tempDir('out-'), 'report');
    const zip = await writeZip({ ...BASE, 'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee') });
    const dry = await cli('run', zip, '--sandbox', '--out', out, '--state-dir', stateDir);
    expect(dry.code).toBe(0);
    const { runId } = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { runId: string };
    rmSync(join(out, 'report.html'));

    const latest = await cli('report', '--state-dir', stateDir);
    expect(latest.code).toBe(0);
    expect(latest.out).toContain(runId);
    expect(latest.out).toContain(join(out, 'report.json'));
    expect(existsSync(join(out, 'report.html'))).toBe(true);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<html');

    const byId = await cli('report', runId, '--state-dir', stateDir);
    expect(byId.code).toBe(0);
    expect(byId.out).toContain(runId);
  }, 180_000);

  it('refuses an unknown run in one line with exit 2, naming the folder it looked in', async () => {
    const stateDir = await tempDir('state-');
    const res = await cli('report', 'run-nope', '--state-dir', stateDir);
    expect(res.code).toBe(2);
    expect(res.err.trim().split('\n')).toHaveLength(1);
    expect(res.err).toContain(stateDir);
    expect(res.err).not.toMatch(/\n\s+at /);
  });
});
