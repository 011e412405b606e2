import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateExport } from '../generate/generate-export.js';
import { UsageError } from './errors.js';

export const GENERATE_USAGE =
  'cliniko-migrate generate --patients N [--years Y] [--seed S] [--clean] --out export.zip';

function whole(text: string | undefined, flag: string, fallback: number, min = 0): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < min)
    throw new UsageError(`${flag}: "${text}" is not a whole number of at least ${min}`);
  return n;
}

export async function generateCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      patients: { type: 'string' },
      years: { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      clean: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (!values.out) throw new UsageError(`--out is required.\n${GENERATE_USAGE}`);
  if (values.patients === undefined) throw new UsageError(`--patients is required.\n${GENERATE_USAGE}`);
  const patients = whole(values.patients, '--patients', 0, 1);
  const started = Date.now();
  const summary = await generateExport(resolve(values.out), {
    patients,
    years: whole(values.years, '--years', 3, 1),
    seed: whole(values.seed, '--seed', 1),
    messy: !values.clean,
  });
  const rows = Object.entries(summary.rows).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`);
  out(`Wrote ${values.out} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${rows.join(', ')}.`);
  return 0;
}
