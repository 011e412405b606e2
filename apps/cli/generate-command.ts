import { resolve } from 'node:path';
import { generateExport } from '../generate/generate-export.js';
import type { GenerateOptions } from './options.js';

/** `generate`: a synthetic export for demos and benchmarks (options parsed by `main`). */
export async function generateCommand(values: GenerateOptions, out: (line: string) => void): Promise<number> {
  const started = Date.now();
  const summary = await generateExport(resolve(values.out), {
    patients: values.patients,
    years: values.years,
    seed: values.seed,
    messy: !values.clean,
    ...(values.documentsMb !== undefined ? { documentsMb: values.documentsMb } : {}),
  });
  const rows = Object.entries(summary.rows).map(([k, v]) => `${k} ${v.toLocaleString('en-US')}`);
  out(`Wrote ${values.out} in ${((Date.now() - started) / 1000).toFixed(1)} s: ${rows.join(', ')}.`);
  return 0;
}
