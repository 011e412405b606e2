import { readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { spawnCli } from '../support/spawn-cli.js';

/** `/proc/net/tcp*` addresses: little-endian hex words, then the port. */
function decode(hex: string): string {
  const [addr = '', port = ''] = hex.split(':');
  const words = addr.match(/.{8}/g) ?? [];
  const bytes = words.flatMap((w) => (w.match(/../g) ?? []).reverse().map((b) => Number.parseInt(b, 16)));
  const host =
    bytes.length === 4
      ? bytes.join('.')
      : bytes.slice(0, 12).every((b, i) => b === (i >= 10 ? 255 : 0))
        ? `::ffff:${bytes.slice(12).join('.')}`
        : (
            Array.from({ length: 8 }, (_, i) =>
              (((bytes[2 * i] ?? 0) << 8) | (bytes[2 * i + 1] ?? 0)).toString(16),
            ).join(':') as string
          ).replace(/^(0:)+0?$|^(0:){7}/, '::');
  return `${host}:${Number.parseInt(port, 16)}`;
}

/** The TCP addresses a process listens on, read from /proc (its socket inodes, then the tables). */
function listeningAddresses(pid: number): string[] {
  let links: string[];
  try {
    links = readdirSync(`/proc/${pid}/fd`).map((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`);
      } catch {
        return '';
      }
    });
  } catch {
    return [];
  }
  const inodes = new Set(links.filter((l) => l.startsWith('socket:[')).map((l) => l.slice(8, -1)));
  const found: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      // state 0A is LISTEN
      if (f[3] === '0A' && inodes.has(f[9] ?? '')) found.push(decode(f[1] ?? ''));
    }
  }
  return found;
}

const loopback = (address: string) => /^(127\.|::1:|::ffff:127\.)/.test(address);

describe('a local run exposes nothing on the network', () => {
  it('decodes /proc addresses', () => {
    expect(decode('0100007F:1F90')).toBe('127.0.0.1:8080');
    expect(decode('00000000:0050')).toBe('0.0.0.0:80');
    expect(decode('00000000000000000000000001000000:0016')).toBe('::1:22');
    expect(decode('00000000000000000000000000000000:0016')).toBe(':::22');
    expect(loopback('0.0.0.0:80')).toBe(false);
    expect(loopback(':::22')).toBe(false);
  });

  it('listens only on 127.0.0.1 while it runs (emulators and the embedded sandbox)', async () => {
    const home = await tempDir('operator-');
    writeFileSync(
      join(home, 'export.zip'),
      readFileSync(
        await writeZip({
          ...BASE,
          'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee', 'C2,Bo,Chan'),
        }),
      ),
    );
    const run = spawnCli(['run', 'export.zip', '--sandbox', '--mode', 'live'], { cwd: home });
    const pid = run.child.pid ?? 0;
    const seen = new Set<string>();
    let finished = false;
    void run.then(() => {
      finished = true;
    });
    while (!finished) {
      for (const a of listeningAddresses(pid)) seen.add(a);
      await new Promise((r) => setTimeout(r, 50));
    }
    const result = await run;
    expect(result.code).toBe(0);
    // DynamoDB and S3/SQS emulators, the Secrets Manager stand-in and the sandbox, at least
    expect(seen.size).toBeGreaterThanOrEqual(4);
    expect([...seen].filter((a) => !loopback(a))).toEqual([]);
  }, 180_000);
});
