import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { generateExport, sandboxSeedForGenerated } from '../../apps/generate/generate-export.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { startSandbox } from '../../apps/sandbox/server.js';
import { csvRecordsOf, tempDir } from '../support/exports.js';

/**
 * A whole live migration through the command line, every log level on, and every line it
 * prints (stdout and stderr: progress, Powertools' JSON logs from every handler) scanned for
 * what identifies a patient (names, dates of birth, e-mails, phone numbers) and for the key.
 */
const KEY = 'LogScanKey000000000000000000001-au1';
const BIN = new URL('../../bin/cliniko-migrate.js', import.meta.url).pathname;

let sandbox: Sandbox;
let output = '';
let exitCode: number | null = null;
let clients: Record<string, string>[] = [];

beforeAll(async () => {
  const dir = await tempDir('log-scan-');
  const zip = join(dir, 'export.zip');
  await generateExport(zip, { patients: 30, appointmentsPerPatient: 3, seed: 33 });
  clients = await csvRecordsOf(zip, 'Clients.csv');
  sandbox = await startSandbox({
    rateLimit: 100_000,
    attachmentProcessingMs: 10,
    seed: sandboxSeedForGenerated(KEY),
  });
  // A child process, so every byte it writes is captured; the sandbox answers from this one.
  exitCode = await new Promise<number | null>((resolve) => {
    const child = spawn(
      process.execPath,
      [
        BIN,
        'run',
        zip,
        '--mode',
        'live',
        '--cliniko-url',
        sandbox.baseUrl,
        '--state-dir',
        join(dir, 'state'),
        '--out',
        join(dir, 'out'),
      ],
      {
        env: {
          ...process.env,
          CLINIKO_API_KEY: KEY,
          POWERTOOLS_LOG_LEVEL: 'DEBUG',
          POWERTOOLS_DEV: 'false',
        },
      },
    );
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString('utf8');
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString('utf8');
    });
    child.on('close', resolve);
  });
}, 600_000);

afterAll(async () => {
  await sandbox?.close();
});

describe('logs of a whole live migration', () => {
  it('ran and logged at every level', () => {
    expect({ exitCode, output: output.slice(-2000) }).not.toMatchObject({ exitCode: 2 });
    expect(sandbox.state.count('patients')).toBeGreaterThan(20);
    // the handlers' structured logs are in the output, so the scan below reads real log lines
    expect(output).toContain('"message":"written"');
    expect(output).toContain('"message":"phase check"');
  });

  it('hold no patient name, date of birth, e-mail or phone number', () => {
    const lines = output.split('\n');
    const found: string[] = [];
    const look = (what: string, value: string | undefined) => {
      if (!value || value.length < 5) return;
      const hit = lines.find((l) => l.includes(value));
      if (hit) found.push(`${what} "${value}" in: ${hit.slice(0, 200)}`);
    };
    for (const c of clients) {
      look('name', `${c.firstname} ${c.lastname}`);
      look('e-mail', c.email);
      for (const phone of [c.mobilephone, c.homephone, c.workphone]) {
        look('phone', phone);
        look('phone digits', phone?.replace(/\D/g, ''));
      }
      look('date of birth', c.dateofbirth);
      const dob = /^(\d{2})\/(\d{2})\/(\d{4})$/.exec(c.dateofbirth ?? '');
      if (dob) look('date of birth', `${dob[3]}-${dob[2]}-${dob[1]}`);
    }
    expect(clients.length).toBeGreaterThan(20);
    expect(found).toEqual([]);
  });

  it('never show the API key, nor more than its last four characters', () => {
    expect(output).not.toContain(KEY);
    expect(output).not.toContain(KEY.slice(0, -4));
    expect(output).not.toContain(KEY.slice(0, 12));
  });
});
