import { connectCliniko } from '../apps/cli/cliniko-connection.js';
import { runInProcess } from '../apps/local/run-in-process.js';
import { readReferenceTables } from '../src/batch/reference-tables.js';
import { parseConfig } from '../src/config/migration-config.js';
import { openArchive } from '../src/source/archive.js';
import { loadProfile } from '../src/source/profile.js';

/**
 * Runs one in-process dry run (the pipeline's steps over in-memory ports, as `run --in-process`)
 * in its own process so its peak RSS is its own; prints figures as JSON.
 */
const path = process.argv[2];
if (!path) throw new Error('usage: dry-run-child <export.zip>');
const profile = loadProfile();
const config = parseConfig({});
const started = performance.now();
const archive = await openArchive(path);
const exportRefs = await readReferenceTables(archive, profile, config, () => undefined).finally(() =>
  archive.close(),
);
const connection = await connectCliniko({ sandbox: true, exportRefs, clinicTimeZone: 'Pacific/Auckland' });
const { report } = await runInProcess({
  exportZip: path,
  credentials: connection.credentials,
  profile,
}).finally(() => connection.close());
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    rows: report.summary.rowsRead,
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    problems: report.problems.length,
    entities: report.entities,
  }),
);
