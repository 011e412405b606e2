import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import type { ClinikoClient } from '../cliniko/client.js';
import type { MigrationConfig } from '../config/migration-config.js';
import type * as M from '../core/canonical.js';
import { arrivalCosts } from '../mapping/arrivals.js';
import { approvalAids } from '../report/approval-aids.js';
import { projectRun } from '../report/run-projection.js';
import { blockingReasons, type RunReport } from '../report/run-report.js';
import type { SourceProfile } from '../source/profile.js';
import { type ClinikoReferenceData, type ScanProgress, scanExport } from './scan-export.js';

/**
 * A dry run (the approval run): every row read, validated, mapped and accounted for, with Cliniko
 * only read (practitioners, businesses, patients already there), never written.
 */
export interface DryRunOptions {
  readonly profile: SourceProfile;
  readonly config: MigrationConfig;
  /** The client to read reference data with; created once the export's reference data is known. */
  readonly client: (exportRefs: {
    locations: M.Location[];
    practitioners: M.Practitioner[];
  }) => Promise<ClinikoClient>;
  readonly keys?: number;
  /** AWS region the live run would run in, for its projected cost (default: aws-prices.ts's). */
  readonly region?: string;
  readonly target?: string;
  readonly runId?: string;
  readonly onProgress?: (progress: ScanProgress) => void;
  readonly now?: () => Date;
}

export function newRunId(now: Date, sha256: string): string {
  const stamp = now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d{3}Z$/, 'Z');
  return `${stamp}-${(sha256 || randomBytes(4).toString('hex')).slice(0, 8)}`;
}

/** Reads what a migration needs from Cliniko: no writes. */
export async function readClinikoReference(client: ClinikoClient): Promise<ClinikoReferenceData> {
  await client.getCurrentUser();
  const [practitioners, businesses, patients] = await Promise.all([
    client.listPractitioners({ includeInactive: true }),
    client.listBusinesses(),
    client.listPatients(['old_reference_id:?', 'archived_at:*']),
  ]);
  return {
    practitioners,
    businesses,
    existingPatientRefs: new Set(patients.map((p) => p.old_reference_id).filter((r): r is string => !!r)),
  };
}

export async function dryRun(exportPath: string, options: DryRunOptions): Promise<RunReport> {
  const now = options.now ?? (() => new Date());
  const started = now();
  let client: ClinikoClient | undefined;
  const result = await scanExport(exportPath, {
    profile: options.profile,
    config: options.config,
    cliniko: async (refs) => {
      client = await options.client(refs);
      return readClinikoReference(client);
    },
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
  });
  const finished = now();
  const exportBytes = await stat(exportPath).then(
    (s) => (s.isFile() ? s.size : undefined),
    () => undefined,
  );
  const count = (s: string) => result.problems.filter((p) => p.severity === s).length;
  return {
    runId: options.runId ?? newRunId(started, result.source.sha256),
    mode: 'dry-run',
    status: blockingReasons(result.problems).length ? 'blocked' : 'succeeded',
    source: result.source,
    startedAt: started.toISOString(),
    finishedAt: finished.toISOString(),
    entities: result.entities,
    excluded: result.excluded,
    problems: result.problems,
    timeZone: result.defaultTimeZone,
    approvalAids: approvalAids([result.aids], result.problems, {
      practitioner: (id) => result.names.practitioners[id],
      location: (id) => result.names.locations[id],
    }),
    arrivals: arrivalCosts(result.aids.attendedByDay ?? {}, {
      setting: options.config.markArrivals,
      exportDate: result.manifest?.exportedAt ?? started.toISOString(),
      keys: options.keys ?? 1,
    }),
    projection: projectRun({
      planned: result.entities,
      config: options.config,
      keys: options.keys ?? 1,
      region: options.region,
      exportBytes,
    }),
    cliniko: {
      requests: client?.counter.total ?? 0,
      byStatus: client?.counter.byStatus() ?? {},
      keys: options.keys ?? 1,
      target: options.target ?? client?.baseUrl ?? '',
    },
    summary: {
      rowsRead: result.rowsRead,
      errors: count('error'),
      warnings: count('warning'),
      infos: count('info'),
      seconds: (finished.getTime() - started.getTime()) / 1000,
    },
  };
}
