import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';

const BIN = new URL('../../bin/cliniko-migrate.js', import.meta.url).pathname;
let child: ChildProcess | undefined;
afterEach(() => {
  child?.kill('SIGKILL');
  child = undefined;
});

function start(args: string[]): Promise<{ url: string; output: () => string }> {
  child = spawn(process.execPath, [BIN, 'sandbox', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /serving (http:\/\/\S+\/v1)/.exec(output);
      if (m?.[1]) resolve({ url: m[1], output: () => output });
    };
    child?.stdout?.on('data', onData);
    child?.stderr?.on('data', onData);
    child?.on('exit', (code) => reject(new Error(`sandbox exited ${code}: ${output}`)));
  });
}

describe('cliniko-migrate sandbox', () => {
  it('serves the seeded clinic to any HTTP client and saves its state on exit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'sandbox-cli-'));
    const key = 'CliSeedKeyBody0123456789-uk1';
    writeFileSync(
      join(dir, 'seed.json'),
      JSON.stringify({
        users: [{ first_name: 'Olive', last_name: 'Owner', is_practitioner: true, api_key: key }],
        businesses: [{ business_name: 'London Physio', time_zone_identifier: 'Europe/London' }],
        practitioners: [{ first_name: 'Sam', last_name: 'Jones', active: true }],
      }),
    );
    const state = join(dir, 'state.json');
    const { url, output } = await start([
      '--port',
      '0',
      '--shard',
      'uk1',
      '--seed',
      join(dir, 'seed.json'),
      '--state',
      state,
    ]);
    const headers = {
      Authorization: `Basic ${Buffer.from(`${key}:`).toString('base64')}`,
      'User-Agent': 'curl-like (ops@example.com)',
      Accept: 'application/json',
      'Content-Type': 'application/json',
    };
    const practitioners = (await (await fetch(`${url}/practitioners`, { headers })).json()) as {
      practitioners: { last_name: string }[];
    };
    expect(practitioners.practitioners.map((p) => p.last_name).sort()).toEqual(['Jones', 'Owner']);
    const created = await fetch(`${url}/patients`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ first_name: 'Ann', last_name: 'Lee', old_reference_id: 'G1' }),
    });
    expect(created.status).toBe(201);
    expect(output()).not.toContain('CliSeedKeyBody');
    child?.kill('SIGTERM');
    await new Promise((r) => child?.once('exit', r));
    expect(existsSync(state)).toBe(true);
    expect(readFileSync(state, 'utf8')).toContain('"old_reference_id":"G1"');
  });

  it('exits 2 with a clear message on a bad flag value', async () => {
    child = spawn(process.execPath, [BIN, 'sandbox', '--faults', 'gremlins=1'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    const code = await new Promise((r) => child?.once('exit', r));
    expect(code).toBe(2);
    expect(err).toContain('unknown fault "gremlins"');
  });
});
