import { main } from '../../apps/cli/main.js';

/** Runs the CLI in this process: its exit code, what it printed, and what it said on stderr. */
export async function cli(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const lines: string[] = [];
  const errors: string[] = [];
  const original = console.error;
  console.error = (...a: unknown[]) => errors.push(a.map(String).join(' '));
  try {
    const code = await main(args, (l) => lines.push(l));
    return { code, out: lines.join('\n'), err: errors.join('\n') };
  } finally {
    console.error = original;
  }
}
