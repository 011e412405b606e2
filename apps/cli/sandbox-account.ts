import { existsSync } from 'node:fs';
import { chmod, mkdir, readFile, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { z } from 'zod';
import { type Sandbox, startSandbox } from '../sandbox/server.js';
import { UsageError } from './errors.js';

/**
 * The embedded sandbox's account, kept in the state folder between runs (issue 26): a rehearsal
 * goes dry run → approve → live → a later export → rollback into one account, as the clinic's
 * real one would, and an approval's binding to the account holds. `run --sandbox --fresh` starts
 * a new account. The file is the sandbox's own snapshot (apps/sandbox/state.ts): the records a
 * run wrote, so it holds what the export held and is kept owner-only.
 */
export function sandboxAccountFile(stateDir: string): string {
  return join(stateDir, 'sandbox', 'cliniko-account.json');
}

/** What a command needs of a kept account before the sandbox starts: the key its user calls with. */
const Snapshot = z.object({ apiKeys: z.record(z.string(), z.string()) });

/**
 * The kept sandbox account in `file`, or undefined when there is none (or `fresh` discards it).
 * Its API key is the first user's, the one the embedded sandbox seeded (shard au1). Errors: an unreadable
 * file is a UsageError naming it and `--fresh`.
 */
export async function keptSandbox(
  file: string | undefined,
  fresh: boolean,
): Promise<{ readonly apiKey: string } | undefined> {
  if (!file) return undefined;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  if (fresh) {
    await rm(file, { force: true });
    return undefined;
  }
  if (!existsSync(file)) return undefined;
  const parsed = Snapshot.safeParse(parseJson(await readFile(file, 'utf8')));
  const body = parsed.success ? Object.keys(parsed.data.apiKeys)[0] : undefined;
  if (!body)
    throw new UsageError(
      `${file} is not a sandbox account this version can read: add --fresh to start a new sandbox account`,
    );
  // The snapshot keeps a key without its shard suffix; the embedded sandbox stands for au1.
  return { apiKey: `${body}-au1` };
}

/**
 * Starts the kept sandbox account of `stateDir` for a command that acts on what a run wrote there
 * (`rollback`), with the key its runs used. Errors: no kept account is a UsageError naming the folder.
 */
export async function startKeptSandbox(
  stateDir: string,
  rateLimit: number,
): Promise<{ readonly apiKey: string; readonly sandbox: Sandbox; close(): Promise<void> }> {
  const file = sandboxAccountFile(stateDir);
  const kept = await keptSandbox(file, false);
  if (!kept)
    throw new UsageError(
      `${stateDir} holds no embedded sandbox account (${file}): the run was not made with --sandbox and this state folder`,
    );
  const sandbox = await startSandbox({ stateFile: file, rateLimit, attachmentProcessingMs: 50 });
  return {
    apiKey: kept.apiKey,
    sandbox,
    close: async () => {
      await sandbox.close();
      await protect(file);
    },
  };
}

/** The account file holds the export's records: readable by its owner only. */
export async function protect(file: string): Promise<void> {
  if (existsSync(file)) await chmod(file, 0o600);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
