import { mkdirSync, writeFileSync } from 'node:fs';
import { awsLimitsBench } from './aws-limits.js';
import { dryRunBench } from './dry-run.js';
import { keysBench } from './keys.js';
import { largeExportBench } from './large-export.js';
import { notesBench } from './notes.js';
import { pipelineBench } from './pipeline.js';
import { rateLimitBench } from './rate-limit.js';
import { uploadBench } from './upload.js';

/** `npm run bench [-- name…]`: runs the named benchmarks (all by default) and prints their figures. */
const BENCHES: Record<string, () => Promise<Record<string, number>>> = {
  'dry-run': dryRunBench,
  'rate-limit': rateLimitBench,
  pipeline: pipelineBench,
  notes: notesBench,
  upload: uploadBench,
  keys: keysBench,
  'aws-limits': awsLimitsBench,
  'large-export': largeExportBench,
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
/** Long benches run only when named (`keys` migrates the same export four times; `aws-limits` runs two exports and 11 simulated days). */
const ON_REQUEST = new Set(['keys', 'aws-limits']);
const names = wanted.length ? wanted : Object.keys(BENCHES).filter((n) => !ON_REQUEST.has(n));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
for (const name of names) {
  const bench = BENCHES[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; known: ${Object.keys(BENCHES).join(', ')}`);
    process.exit(2);
  }
  console.log(`== ${name}`);
  const figures = await bench();
  console.log(JSON.stringify(figures));
  writeFileSync(
    new URL(`./results/${name}.json`, import.meta.url),
    `${JSON.stringify({ name, at: new Date().toISOString(), figures }, null, 2)}\n`,
  );
}
