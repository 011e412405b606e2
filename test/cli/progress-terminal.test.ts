import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { BIN, keylessEnv, spawnCli } from '../support/spawn-cli.js';

/** Runs the CLI under a pseudo-terminal (util-linux `script`), as an operator at a terminal sees it. */
function underTerminal(args: string[], cwd: string): Promise<{ code: number | null; screen: string }> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-qfec', command, '/dev/null'], {
      cwd,
      env: { ...keylessEnv(), COLUMNS: '160', LINES: '40', TERM: 'xterm' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let screen = '';
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, screen }));
  });
}

const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

describe('progress a person can plan by', () => {
  it('shows a bar per phase with records done/total, requests per minute against the limit and an ETA on a terminal', async () => {
    const home = await tempDir('operator-');
    writeFileSync(
      join(home, 'export.zip'),
      readFileSync(
        await writeZip({
          ...BASE,
          'Clients.csv': csv('ClientId,FirstName,LastName', ...range(10).map((n) => `C${n},Ann${n},Lee`)),
          'Appointments.csv': csv(
            'AppointmentId,ClientId,PractitionerId,StartDate,StartTime,AppointmentTypeId,LocationId',
            ...range(20).map((n) => `A${n},C${(n % 10) + 1},P1,0${(n % 9) + 1}/05/2024,09:30,T1,L1`),
          ),
        }),
      ),
    );
    const { code, screen } = await underTerminal(
      ['run', 'export.zip', '--sandbox', '--mode', 'live', '--sandbox-rate-limit', '60'],
      home,
    );
    expect(code).toBe(0);
    expect(screen).toMatch(
      /Appointments\s+\|[█░]+\| \d+\/\d+ records in all \| \d+\/60 requests\/min \| ETA/,
    );
    expect(screen).toMatch(/ETA (under a minute|\d+ min)/);
  }, 240_000);

  it('prints under 60 plain lines for a 500-patient export when not on a terminal', async () => {
    const home = await tempDir('operator-');
    const generated = await spawnCli(['generate', '--patients', '500', '--out', 'export.zip'], { cwd: home });
    expect(generated.code).toBe(0);
    const res = await spawnCli(['run', 'export.zip', '--sandbox'], { cwd: home });
    expect(res.code).toBe(0);
    const lines = res.out.trimEnd().split('\n');
    expect(lines.length).toBeLessThan(60);
    expect(res.out).toMatch(/A live run: ≈ [\d,]+ Cliniko requests, ≈ .+ at 1 key, ≈ .+ at 4/);
    expect(res.out).not.toContain('\u001b[');
  }, 300_000);
});
