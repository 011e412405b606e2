import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { ENTITY_KEYS } from '../migration/entities.js';
import { UsageError } from './errors.js';
import { ApprovalError, DEFAULT_STATE_DIR, LocalRegistry, type LocalRunRecord } from './local-registry.js';

export const STATUS_USAGE = 'cliniko-migrate status <runId> [--state-dir DIR] [--stack NAME]';

const fmt = (n: number) => n.toLocaleString('en-US');

/** A run's state and its counts by entity, while it goes on and after. */
export async function statusCommand(argv: string[], out: (line: string) => void): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { 'state-dir': { type: 'string' }, stack: { type: 'string' } },
    strict: true,
  });
  const [runId, ...extra] = positionals;
  if (!runId || extra.length) throw new UsageError(`status takes one run id.\n${STATUS_USAGE}`);
  let record: LocalRunRecord | undefined;
  if (values.stack) {
    const { deployedStatus } = await import('./deployed-runs.js');
    record = await deployedStatus(values.stack, runId);
  } else {
    const dir = resolve(values['state-dir'] ?? DEFAULT_STATE_DIR);
    record = await new LocalRegistry(dir).getRun(runId);
    if (!record) throw new ApprovalError(`no run ${runId} in ${dir}`);
  }
  printStatus(record, out);
  return 0;
}

export function printStatus(r: LocalRunRecord, out: (line: string) => void): void {
  out(
    `Run ${r.runId}: ${r.mode} of ${r.exportFile}, ${r.state}${r.phase && r.state === 'running' ? ` (phase ${r.phase})` : ''}`,
  );
  out(`started ${r.startedAt}, last update ${r.updatedAt}`);
  if (r.entities) {
    out('entity            source  planned  created  present  updated  skipped  invalid   failed  missing');
    for (const key of ENTITY_KEYS) {
      const c = r.entities[key];
      out(
        `${key.padEnd(16)}${[
          c.source,
          c.planned,
          c.created,
          c.alreadyPresent,
          c.updated,
          c.skipped,
          c.invalid,
          c.failed,
          c.missingFromExport,
        ]
          .map((n) => fmt(n).padStart(9))
          .join('')}`,
      );
    }
  } else if (r.progress) {
    out('entity            written   queued');
    for (const [key, p] of Object.entries(r.progress))
      if (p.enqueued > 0)
        out(`${key.padEnd(16)}${fmt(p.finished).padStart(9)}${fmt(p.enqueued).padStart(9)}`);
  } else out('nothing written yet');
  if (r.reportDir) out(`Report: ${r.reportDir}`);
}
