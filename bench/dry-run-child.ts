import { connectCliniko } from '../apps/cli/cliniko-connection.js';
import { dryRun } from '../src/batch/dry-run.js';
import { parseConfig } from '../src/config/migration-config.js';
import { loadProfile } from '../src/source/profile.js';

/** Runs one dry run in its own process so its peak RSS is its own; prints figures as JSON. */
const path = process.argv[2];
if (!path) throw new Error('usage: dry-run-child <export.zip>');
let close: (() => Promise<void>) | undefined;
const started = performance.now();
const report = await dryRun(path, {
  profile: loadProfile(),
  config: parseConfig({}),
  client: async (exportRefs) => {
    const c = await connectCliniko({ sandbox: true, exportRefs, clinicTimeZone: 'Pacific/Auckland' });
    close = () => c.close();
    return c.client;
  },
});
const seconds = (performance.now() - started) / 1000;
await close?.();
console.log(
  JSON.stringify({
    rows: report.summary.rowsRead,
    seconds,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    problems: report.problems.length,
    entities: report.entities,
  }),
);
