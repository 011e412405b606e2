import { execFile } from 'node:child_process';
import { cpSync, existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { tempDir } from '../support/exports.js';
import { keylessEnv } from '../support/spawn-cli.js';

/**
 * The CLI as a clinic's IT person gets it (issue 14): the package npm would publish, installed
 * into a folder of their own, run there with `npx cliniko-migrate`. Nothing may come from this
 * repository's working tree: only what `npm pack` puts in the tarball, and the runtime
 * dependencies it declares (a devDependency the CLI needs would be missing here).
 */
const run = promisify(execFile);
const ROOT = new URL('../..', import.meta.url).pathname;

const Lock = z.object({
  packages: z.record(z.string(), z.looseObject({ dev: z.boolean().optional() })),
});
const Pkg = z.looseObject({
  name: z.string(),
  version: z.string(),
  dependencies: z.record(z.string(), z.string()),
  bin: z.record(z.string(), z.string()),
});

let work: string;
let app: string;

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

beforeAll(async () => {
  work = await tempDir('installed-');
  const { stdout } = await run('npm', ['pack', '--pack-destination', work, '--json', '--ignore-scripts'], {
    cwd: ROOT,
  });
  const [packed] = z.array(z.object({ filename: z.string() })).parse(JSON.parse(stdout));
  const tarball = `file:../${packed?.filename}`;
  app = join(work, 'clinic-ops');
  cpSync(join(ROOT, 'samples', 'gensolve-sample.zip'), join(app, 'gensolve-sample.zip'));
  // Installed from the local npm cache only (`npm ci --offline`): the tarball, and the versions
  // this repository's lock file resolves for its runtime dependencies (its dev-only entries left
  // out, as an install of the published package would leave them out).
  const pkg = Pkg.parse(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')));
  const lock = Lock.parse(JSON.parse(readFileSync(join(ROOT, 'package-lock.json'), 'utf8')));
  const runtime = Object.entries(lock.packages).filter(([path, entry]) => path !== '' && !entry.dev);
  const manifest = { name: 'clinic-ops', private: true, dependencies: { [pkg.name]: tarball } };
  writeFileSync(join(app, 'package.json'), JSON.stringify(manifest));
  writeFileSync(
    join(app, 'package-lock.json'),
    JSON.stringify({
      name: 'clinic-ops',
      lockfileVersion: 3,
      requires: true,
      packages: {
        '': manifest,
        [`node_modules/${pkg.name}`]: {
          version: pkg.version,
          resolved: tarball,
          dependencies: pkg.dependencies,
          bin: pkg.bin,
        },
        ...Object.fromEntries(runtime),
      },
    }),
  );
  await run('npm', ['ci', '--offline', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: app });
}, 400_000);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('cliniko-migrate installed as a package, in a folder of its own', () => {
  it('answers --help and runs a --sandbox dry run of the sample export there', async () => {
    const installed = join(app, 'node_modules', 'cliniko-migrate');
    const shipped = filesUnder(installed);
    expect(shipped).toContain('bin/cliniko-migrate.js');
    expect(shipped.some((f) => f.startsWith('test/') || f.startsWith('bench/'))).toBe(false);

    // the operator's own state folder (XDG), not one a test set
    const env = keylessEnv({ XDG_STATE_HOME: join(app, 'xdg-state') });
    delete env.CLINIKO_MIGRATE_STATE_DIR;
    const npx = (...args: string[]) =>
      run('npx', ['--no', '--', 'cliniko-migrate', ...args], { cwd: app, env });
    const help = await npx('--help');
    expect(help.stdout).toContain('Usage: cliniko-migrate');
    expect(help.stdout).toContain('run [options] <export>');

    const dry = await npx('run', 'gensolve-sample.zip', '--sandbox', '--out', 'report');
    expect(dry.stdout).toContain('Dry run (nothing is written to Cliniko) of gensolve-sample.zip');
    expect(dry.stdout).toContain('embedded Cliniko sandbox');
    expect(dry.stderr).not.toMatch(/CannotFindPackageLockFile|Cannot find (module|package)/);
    const report = z
      .object({
        runId: z.string(),
        mode: z.literal('dry-run'),
        entities: z.object({ patients: z.object({ source: z.number(), planned: z.number() }) }),
      })
      .parse(JSON.parse(readFileSync(join(app, 'report', 'report.json'), 'utf8')));
    expect(report.entities.patients.source).toBeGreaterThan(0);
    expect(report.entities.patients.planned).toBeGreaterThan(0);
    // its state sits in the user's state folder; the installed package is left as installed
    expect(existsSync(join(app, 'xdg-state', 'cliniko-migrate', 'runs', `${report.runId}.json`))).toBe(true);
    const again = await npx('report');
    expect(again.stdout).toContain(report.runId);
    expect(existsSync(join(app, 'report', 'report.html'))).toBe(true);
    expect(filesUnder(installed)).toEqual(shipped);
  }, 300_000);
});
