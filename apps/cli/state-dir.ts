import { existsSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';

/** The environment variable that names the state folder for every command (below `--state-dir`). */
export const STATE_DIR_ENV = 'CLINIKO_MIGRATE_STATE_DIR';

/** The folder earlier versions kept in the working directory; still used where it is found. */
export const LEGACY_STATE_DIR = '.cliniko-migrate';

/** The user's state folder as help text names it, the same on every machine. */
export const USER_STATE_DIR_WORDS =
  '$XDG_STATE_HOME/cliniko-migrate, ~/.local/state/cliniko-migrate when that is unset';

/** Where the state folder came from, so a command can say so when it is not the usual one. */
export type StateDirSource = 'flag' | 'env' | 'legacy' | 'user';

export interface ResolvedStateDir {
  /** Absolute path of the folder holding runs, approvals, the status table and the sandbox account. */
  readonly dir: string;
  readonly source: StateDirSource;
}

export interface StateDirContext {
  readonly env?: NodeJS.ProcessEnv;
  readonly cwd?: string;
  readonly home?: string;
  readonly platform?: NodeJS.Platform;
}

/**
 * The user's state folder for this program, as the XDG Base Directory specification has it:
 * `$XDG_STATE_HOME/cliniko-migrate` when that variable holds an absolute path (the specification
 * says a relative one is to be ignored), else `~/.local/state/cliniko-migrate`; on Windows
 * `%LOCALAPPDATA%\cliniko-migrate`. Written here rather than taken from a library: env-paths has no
 * state folder, and xdg-basedir reads the environment once, when it is imported.
 */
export function userStateDir(context: StateDirContext = {}): string {
  const env = context.env ?? process.env;
  const home = context.home ?? homedir();
  if ((context.platform ?? process.platform) === 'win32')
    return join(env.LOCALAPPDATA || join(home, 'AppData', 'Local'), 'cliniko-migrate');
  const xdg = env.XDG_STATE_HOME;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.local', 'state'), 'cliniko-migrate');
}

/**
 * The state folder a command uses, first found of: `--state-dir` (relative to the working
 * directory); `$CLINIKO_MIGRATE_STATE_DIR`; a `.cliniko-migrate/` folder in the working directory
 * (where versions before the installed CLI kept it); the user's state folder ({@link userStateDir}).
 * So `status`, `approve` and `report` find a run from any folder.
 */
export function resolveStateDir(flag: string | undefined, context: StateDirContext = {}): ResolvedStateDir {
  const env = context.env ?? process.env;
  const cwd = context.cwd ?? process.cwd();
  if (flag) return { dir: resolve(cwd, flag), source: 'flag' };
  const fromEnv = env[STATE_DIR_ENV]?.trim();
  if (fromEnv) return { dir: resolve(cwd, fromEnv), source: 'env' };
  const legacy = resolve(cwd, LEGACY_STATE_DIR);
  if (isFolder(legacy)) return { dir: legacy, source: 'legacy' };
  return { dir: userStateDir(context), source: 'user' };
}

/** The one line a command prints when it uses a folder the operator may not expect. */
export function stateDirNotice(resolved: ResolvedStateDir): string | undefined {
  if (resolved.source !== 'legacy') return undefined;
  return `cliniko-migrate: using the state folder ${resolved.dir} found in this folder (the default is now ${userStateDir()}; --state-dir or ${STATE_DIR_ENV} chooses another)`;
}

function isFolder(path: string): boolean {
  return existsSync(path) && statSync(path).isDirectory();
}
