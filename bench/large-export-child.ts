import { main } from '../apps/cli/main.js';

/**
 * One `cliniko-migrate run --mode dry-run --sandbox` of an export through the local pipeline, in
 * its own process so that its peak RSS (every thread: handlers, emulators, the embedded sandbox)
 * is the run's; prints the CLI's lines, then its figures as JSON on the last line.
 */
const [zip, outDir] = process.argv.slice(2);
if (!zip || !outDir) throw new Error('usage: large-export-child <export.zip> <out dir>');
const started = performance.now();
const code = await main(
  [
    'run',
    zip,
    '--mode',
    'dry-run',
    '--sandbox',
    '--sandbox-rate-limit',
    '100000',
    '--out',
    outDir,
    '--state-dir',
    `${outDir}/state`,
  ],
  (line) => console.error(line),
);
console.log(
  JSON.stringify({
    code,
    seconds: (performance.now() - started) / 1000,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
process.exit(code);
