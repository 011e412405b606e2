import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { buildProgram } from '../../apps/cli/main.js';
import { cli } from '../support/cli.js';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));

/**
 * Options the commands are documented with (docs/RUNNING.md, each `--help`): they must stay (new
 * ones may be added).
 */
const CONTRACT_OPTIONS: Record<string, string[]> = {
  run: ['--config', '--mode', '--out', '--cliniko-url', '--sandbox', '--require-approval', '--state-dir'],
  sandbox: ['--port', '--shard', '--rate-limit', '--faults', '--seed', '--api-key'],
  generate: ['--patients', '--years', '--seed', '--out'],
  status: ['--state-dir', '--stack'],
  approve: ['--by', '--state-dir', '--stack'],
};

describe('cliniko-migrate --help, --version and argument errors', () => {
  const commands = buildProgram(
    () => undefined,
    () => undefined,
  ).commands.map((c) => c.name());

  it('has every command of the contract', () => {
    expect(commands).toEqual(expect.arrayContaining(Object.keys(CONTRACT_OPTIONS)));
  });

  it.each(commands)(
    '%s --help exits 0, describes every option with its default, and shows an example',
    async (name) => {
      const { code, out } = await cli(name, '--help');
      expect(code).toBe(0);
      const command = buildProgram(
        () => undefined,
        () => undefined,
      ).commands.find((c) => c.name() === name);
      for (const option of command?.options ?? []) {
        expect(out).toContain(option.long);
        // Each option has a sentence of its own, not only its flag.
        expect(option.description.length).toBeGreaterThan(10);
        if (option.defaultValue !== undefined && option.defaultValue !== false)
          expect(out).toMatch(new RegExp(`${option.long}[^]*?default:`));
      }
      for (const flag of CONTRACT_OPTIONS[name] ?? []) expect(out).toContain(flag);
      expect(out).toContain(`$ cliniko-migrate ${name}`);
    },
  );

  it('the top-level help lists the commands and the exit codes; no command at all exits 2', async () => {
    const help = await cli('--help');
    expect(help.code).toBe(0);
    for (const name of commands) expect(help.out).toContain(name);
    expect(help.out).toContain('130 interrupted');
    const none = await cli();
    expect(none.code).toBe(2);
    expect(none.err).toContain('Usage: cliniko-migrate');
  });

  it('--version prints the package version', async () => {
    expect(await cli('--version')).toMatchObject({ code: 0, out: pkg.version });
  });

  it('refuses an unknown option or command with exit 2 and a hint', async () => {
    const option = await cli('run', 'x.zip', '--modee', 'live');
    expect(option.code).toBe(2);
    expect(option.err).toContain("unknown option '--modee'");
    expect(option.err).toContain('Did you mean --mode?');
    const command = await cli('aprove', 'run-1');
    expect(command.code).toBe(2);
    expect(command.err).toContain('Did you mean approve?');
    const mode = await cli('run', 'x.zip', '--mode', 'go');
    expect(mode.code).toBe(2);
    expect(mode.err).toContain('dry-run');
    const number = await cli('generate', '--patients', 'ten', '--out', 'x.zip');
    expect(number.code).toBe(2);
    expect(number.err).toContain('"ten" is not a whole number');
    const missing = await cli('generate', '--out', 'x.zip');
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--patients');
  });
});
