import { resolve } from 'node:path';

/** A shell word: quoted when it holds anything a shell would split or expand (POSIX sh quoting). */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * ` --state-dir <folder>` (leading space) for a command the CLI prints as the next step, when this
 * command was given `--state-dir` (made absolute, so it works from any folder): without it the printed command would look in the default state
 * folder and not find the run. Empty when the folder came from the default or the environment
 * (the next command in the same shell finds it the same way).
 */
export function stateDirArgument(stateDir: string | undefined): string {
  return stateDir ? ` --state-dir ${shellWord(resolve(stateDir))}` : '';
}
