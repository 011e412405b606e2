import { rmSync } from 'node:fs';
import { dirname } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { sha256Of } from '../../apps/cli/local-registry.js';
import { zipFolder } from '../../apps/cli/zip-folder.js';
import { BASE, csv, writeFolder } from '../support/exports.js';

describe('an unpacked export, zipped for the pipeline', () => {
  it('makes the same bytes every time, so an approval of its dry run holds for its live run', async () => {
    const folder = await writeFolder({
      ...BASE,
      'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee'),
    });
    const first = await zipFolder(folder);
    await new Promise((r) => setTimeout(r, 2100)); // zip times have two-second resolution
    const second = await zipFolder(folder);
    expect(await sha256Of(first)).toBe(await sha256Of(second));
    const changed = await writeFolder({
      ...BASE,
      'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lea'),
    });
    const third = await zipFolder(changed);
    expect(await sha256Of(third)).not.toBe(await sha256Of(first));
    for (const z of [first, second, third]) rmSync(dirname(z), { recursive: true, force: true });
  });
});
