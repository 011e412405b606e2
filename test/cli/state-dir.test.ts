import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { resolveStateDir, stateDirNotice, userStateDir } from '../../apps/cli/state-dir.js';
import { tempDir } from '../support/exports.js';

describe('the state folder a command uses', () => {
  it('is $XDG_STATE_HOME/cliniko-migrate, else ~/.local/state/cliniko-migrate (a relative XDG path is ignored)', () => {
    expect(userStateDir({ env: { XDG_STATE_HOME: '/x/state' }, home: '/h', platform: 'linux' })).toBe(
      '/x/state/cliniko-migrate',
    );
    expect(userStateDir({ env: {}, home: '/h', platform: 'linux' })).toBe('/h/.local/state/cliniko-migrate');
    expect(userStateDir({ env: { XDG_STATE_HOME: 'rel' }, home: '/h', platform: 'linux' })).toBe(
      '/h/.local/state/cliniko-migrate',
    );
  });

  it('takes --state-dir first, then CLINIKO_MIGRATE_STATE_DIR, then a legacy .cliniko-migrate/, then the user folder', async () => {
    const cwd = await tempDir('cwd-');
    const context = { cwd, home: '/h', platform: 'linux' as const };
    const env = { CLINIKO_MIGRATE_STATE_DIR: 'from-env' };
    expect(resolveStateDir('flag', { ...context, env })).toEqual({ dir: join(cwd, 'flag'), source: 'flag' });
    expect(resolveStateDir(undefined, { ...context, env })).toEqual({
      dir: join(cwd, 'from-env'),
      source: 'env',
    });
    const user = resolveStateDir(undefined, { ...context, env: {} });
    expect(user).toEqual({ dir: '/h/.local/state/cliniko-migrate', source: 'user' });
    expect(stateDirNotice(user)).toBeUndefined();
    mkdirSync(join(cwd, '.cliniko-migrate'));
    const legacy = resolveStateDir(undefined, { ...context, env: {} });
    expect(legacy).toEqual({ dir: join(cwd, '.cliniko-migrate'), source: 'legacy' });
    expect(stateDirNotice(legacy)).toContain(join(cwd, '.cliniko-migrate'));
    expect(stateDirNotice(legacy)?.split('\n')).toHaveLength(1);
  });
});
