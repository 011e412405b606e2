import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { main } from '../../apps/cli/main.js';

/**
 * Issue 23: state folders and reports were 755/644, readable by every account on the machine.
 * The CLI creates what it writes owner-only (files 0600, folders 0700), whatever the caller's umask.
 */
describe('files the CLI creates', () => {
  it('are owner-only: a generated export', async () => {
    const before = process.umask(0o022);
    try {
      const home = mkdtempSync(join(tmpdir(), 'owner-only-'));
      const zip = join(home, 'export.zip');
      const code = await main(['generate', '--patients', '2', '--out', zip], () => {});
      expect(code).toBe(0);
      expect(statSync(zip).mode & 0o777).toBe(0o600);
    } finally {
      process.umask(before);
    }
  });
});
