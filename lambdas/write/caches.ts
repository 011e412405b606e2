import type { SqsCommandQueue } from '../../src/adapters/aws/sqs-command-queue.js';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import type { RunInfo } from '../../src/ports/runs.js';
import type { ExportArchive } from '../../src/source/archive.js';
import type { clinikoFor } from '../shared/runtime.js';

/** Runs whose data a writer container keeps at once: more than the stack's runs at once (10 by default). */
export const RUNS_KEPT = 16;

/** What the container keeps of one run: data that does not change while the run lasts. */
export interface RunCache {
  /** The run's record (written by Preflight, read-only afterwards). */
  readonly info: Promise<RunInfo>;
  /** The run's export, opened once: documents are read from it by range. */
  archive?: Promise<ExportArchive>;
}

/**
 * Everything the writer keeps between invocations (issue 24), in one place with one lifetime:
 * the Lambda container's (minutes to hours on AWS; a local run ends it with resetRuntime). What
 * holds a run's data is keyed by run and bounded: the {@link RUNS_KEPT} runs used last are kept,
 * an older one is read again if its messages come back. What holds no run's data lives with the
 * container:
 * - `queue`: the write queue's client;
 * - `clients`: the Cliniko clients, one per key and base URL (src/adapters/aws/cliniko-factory.ts),
 *   each behind its user's token bucket, which lives in the status table, not here;
 * - `flushed`: per client, the request counts already added to their runs;
 * - `referralTypes`: per client (so per account), the account's "Contact" referral source type.
 * A clinic's secret is not kept here: SecretsManagerSource keeps it at most its stated age.
 * A promise that failed is never kept: the next use asks again.
 */
export class WriterCaches {
  private readonly runs = new Map<string, RunCache>();
  queue: SqsCommandQueue | undefined;
  clients: ReturnType<typeof clinikoFor> | undefined;
  readonly flushed = new Map<ClinikoClient, Record<string, number>>();
  readonly referralTypes = new WeakMap<ClinikoClient, Promise<string | undefined>>();

  constructor(private readonly runsKept = RUNS_KEPT) {}

  /** The run's cache, `load`ing its record on first use (or after a failed read, or once evicted). */
  run(runId: string, load: () => Promise<RunInfo>): RunCache {
    let entry = this.runs.get(runId);
    if (entry) this.runs.delete(runId);
    else {
      const info = load();
      const fresh: RunCache = { info };
      entry = fresh;
      info.catch(() => {
        if (this.runs.get(runId) === fresh) this.runs.delete(runId);
      });
    }
    // a Map iterates in insertion order: re-inserting makes it the most recently used
    this.runs.set(runId, entry);
    for (const oldest of this.runs.keys()) {
      if (this.runs.size <= this.runsKept) break;
      this.runs.delete(oldest);
    }
    return entry;
  }

  /** The run's export, opened by `open` on first use; a failed open is not kept. */
  archive(run: RunCache, open: (info: RunInfo) => Promise<ExportArchive>): Promise<ExportArchive> {
    if (!run.archive) {
      const archive = run.info.then(open);
      run.archive = archive;
      archive.catch(() => {
        if (run.archive === archive) run.archive = undefined;
      });
    }
    return run.archive;
  }

  /** How many runs are kept now. */
  get runCount(): number {
    return this.runs.size;
  }

  /** Forgets everything (resetRuntime). */
  clear(): void {
    this.runs.clear();
    this.queue = undefined;
    this.clients = undefined;
    this.flushed.clear();
  }
}
