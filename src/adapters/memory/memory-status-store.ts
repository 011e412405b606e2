import { z } from 'zod';
import type { CountedEntity, EntityKey } from '../../core/entities.js';
import type { ClaimResult, IdMapEntry } from '../../ports/id-map.js';
import type { BatchCounts, BatchEvidence, RecordOutcome } from '../../ports/outcomes.js';
import type { RunInfo } from '../../ports/runs.js';
import type { StatusStore } from '../../ports/status-store.js';
import type { LedgerEntry, WriteOutcome, WriteResult, WriteTotals } from '../../ports/write-ledger.js';

/** What updateRunStatus may set beside the status that getRun gives back (as the DynamoDB adapter). */
const Excluded = z.record(z.string(), z.number());

type IdItem = { entry?: IdMapEntry; claim?: { owner: string; until: number } };

/** Items in the order DynamoDB's sort key keeps them (ASCII keys: UTF-16 order is byte order). */
const byKey = <T>(map: ReadonlyMap<string, T>): [string, T][] =>
  [...map.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));

/**
 * Every status-table port (StatusStore) in one process's memory: the in-process dry run's runs,
 * outcomes, batch counts, id map, claims, findings and write ledger. It answers as
 * `dynamoStatusStore` does (src/adapters/aws/dynamo-*.ts): batch counts by batch key and outcomes
 * by entity and source id in key order, a retried batch's counts replacing its earlier ones, a
 * write result counted once however often it is recorded, only a run's own findings found, and
 * getRun giving back the status and `excluded` of updateRunStatus (its other attributes are kept
 * by DynamoDB, not read back). Lifetime: the process's; nothing outlives it, so a run in it starts
 * from an empty id map.
 */
export class MemoryStatusStore implements StatusStore {
  private readonly runs = new Map<
    string,
    { run: RunInfo; status: string; excluded?: Record<string, number> }
  >();
  private readonly dryRuns = new Map<string, string>();
  private readonly requestCounts = new Map<string, Record<string, number>>();
  private readonly batches = new Map<
    string,
    Map<string, { counts: BatchCounts; evidence?: BatchEvidence }>
  >();
  private readonly outcomes = new Map<string, Map<string, RecordOutcome>>();
  private readonly ids = new Map<string, Map<string, IdItem>>();
  private readonly found = new Map<string, { clinikoId: string; runId: string }>();
  private readonly ledger = new Map<string, Map<string, LedgerEntry & { counted?: WriteOutcome }>>();

  async putRun(run: RunInfo): Promise<void> {
    this.runs.set(run.runId, { run, status: 'preflight-passed' });
  }

  async getRun(runId: string): Promise<RunInfo> {
    const item = this.runs.get(runId);
    if (!item) throw new Error(`run ${runId} is not in the status table`);
    return { ...item.run, status: item.status, ...(item.excluded ? { excluded: item.excluded } : {}) };
  }

  async updateRunStatus(runId: string, status: string, extra: Record<string, unknown> = {}): Promise<void> {
    const item = this.runs.get(runId);
    if (!item) throw new Error(`run ${runId} is not in the status table`);
    item.status = status;
    if (extra.excluded !== undefined) item.excluded = Excluded.parse(extra.excluded);
  }

  async recordDryRun(clinicId: string, sha256: string, runId: string): Promise<void> {
    this.dryRuns.set(`${clinicId}#${sha256}`, runId);
  }

  async dryRunFor(clinicId: string, sha256: string): Promise<string | undefined> {
    return this.dryRuns.get(`${clinicId}#${sha256}`);
  }

  async addRequests(runId: string, byStatus: Record<string, number>): Promise<void> {
    const counts = this.requestCounts.get(runId) ?? {};
    for (const [status, n] of Object.entries(byStatus)) if (n > 0) counts[status] = (counts[status] ?? 0) + n;
    this.requestCounts.set(runId, counts);
  }

  async requests(runId: string): Promise<Record<string, number>> {
    return { ...this.requestCounts.get(runId) };
  }

  async putBatchCounts(runId: string, batchKey: string, counts: BatchCounts, evidence?: BatchEvidence) {
    const run = this.batches.get(runId) ?? new Map();
    run.set(batchKey, { counts, ...(evidence ? { evidence } : {}) });
    this.batches.set(runId, run);
  }

  async listBatchCounts(runId: string) {
    return byKey(this.batches.get(runId) ?? new Map()).map(([batchKey, b]) => ({ batchKey, ...b }));
  }

  /** One batch's counts (the in-process runner's progress), without listing every batch. */
  batchCounts(runId: string, batchKey: string): BatchCounts | undefined {
    return this.batches.get(runId)?.get(batchKey)?.counts;
  }

  async putOutcomes(runId: string, outcomes: readonly RecordOutcome[]): Promise<void> {
    const run = this.outcomes.get(runId) ?? new Map<string, RecordOutcome>();
    for (const o of outcomes) run.set(`${o.entity}#${o.sourceId}`, o);
    this.outcomes.set(runId, run);
  }

  async getOutcomes(runId: string, entity: EntityKey, sourceIds: readonly string[]) {
    const run = this.outcomes.get(runId);
    const out = new Map<string, RecordOutcome>();
    for (const id of sourceIds) {
      const o = run?.get(`${entity}#${id}`);
      if (o) out.set(id, o);
    }
    return out;
  }

  async *listOutcomes(runId: string, entity?: EntityKey): AsyncIterable<RecordOutcome> {
    for (const [key, o] of byKey(this.outcomes.get(runId) ?? new Map<string, RecordOutcome>()))
      if (!entity || key.startsWith(`${entity}#`)) yield o;
  }

  private idsOf(scope: string, entity: CountedEntity): Map<string, IdItem> {
    const key = `${scope}#${entity}`;
    let items = this.ids.get(key);
    if (!items) {
      items = new Map();
      this.ids.set(key, items);
    }
    return items;
  }

  async getIdMap(scope: string, entity: CountedEntity, sourceIds: readonly string[]) {
    const items = this.idsOf(scope, entity);
    const out = new Map<string, IdMapEntry>();
    for (const id of sourceIds) {
      const entry = items.get(id)?.entry;
      if (entry) out.set(id, entry);
    }
    return out;
  }

  async putIdMap(scope: string, entity: CountedEntity, sourceId: string, entry: IdMapEntry): Promise<void> {
    const items = this.idsOf(scope, entity);
    // a written record's claim is over (the DynamoDB adapter's put replaces the whole item)
    items.set(sourceId, { entry });
  }

  async *listIdMap(scope: string, entity: CountedEntity) {
    for (const [sourceId, item] of byKey(this.idsOf(scope, entity)))
      if (item.entry) yield { sourceId, entry: item.entry };
  }

  async listIdMapPage(
    scope: string,
    entity: CountedEntity,
    page: { readonly cursor?: string; readonly limit: number },
  ) {
    const after = page.cursor;
    const items = byKey(this.idsOf(scope, entity)).filter(([id]) => after === undefined || id > after);
    const read = items.slice(0, page.limit);
    const last = read.at(-1);
    return {
      records: read.flatMap(([sourceId, item]) => (item.entry ? [{ sourceId, entry: item.entry }] : [])),
      ...(last && items.length > read.length ? { cursor: last[0] } : {}),
    };
  }

  async addIdMapStep(scope: string, entity: CountedEntity, sourceId: string, step: string): Promise<void> {
    const item = this.idsOf(scope, entity).get(sourceId);
    if (item?.entry && !item.entry.steps.includes(step))
      item.entry = { ...item.entry, steps: [...item.entry.steps, step] };
  }

  async deleteIdMap(scope: string, entity: CountedEntity, sourceId: string): Promise<void> {
    this.idsOf(scope, entity).delete(sourceId);
  }

  async claim(
    scope: string,
    entity: CountedEntity,
    sourceId: string,
    owner: string,
    ttlMs: number,
    now: number,
  ): Promise<ClaimResult> {
    const items = this.idsOf(scope, entity);
    const item = items.get(sourceId) ?? {};
    if (item.entry) return 'done';
    if (item.claim && item.claim.until >= now) return 'busy';
    const expired = item.claim !== undefined;
    items.set(sourceId, { ...item, claim: { owner, until: now + ttlMs } });
    return expired ? 'taken-over' : 'claimed';
  }

  async releaseClaim(scope: string, entity: CountedEntity, sourceId: string, owner: string): Promise<void> {
    const items = this.idsOf(scope, entity);
    const item = items.get(sourceId);
    if (item?.claim?.owner !== owner) return;
    if (item.entry) items.set(sourceId, { entry: item.entry });
    else items.delete(sourceId);
  }

  async putFound(
    scope: string,
    resource: string,
    runId: string,
    found: readonly { readonly key: string; readonly clinikoId: string }[],
  ): Promise<void> {
    for (const f of found) this.found.set(`${scope}#${resource}#${f.key}`, { clinikoId: f.clinikoId, runId });
  }

  async getFound(scope: string, resource: string, runId: string, key: string): Promise<string | undefined> {
    const f = this.found.get(`${scope}#${resource}#${key}`);
    return f?.runId === runId ? f.clinikoId : undefined;
  }

  async getFoundMany(
    scope: string,
    resource: string,
    runId: string,
    keys: readonly string[],
  ): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    for (const key of new Set(keys)) {
      const id = await this.getFound(scope, resource, runId, key);
      if (id) out.set(key, id);
    }
    return out;
  }

  async lookupRecord(
    scope: string,
    entity: CountedEntity,
    sourceId: string,
    finding?: { readonly resource: string; readonly runId: string; readonly key: string },
  ): Promise<{ written?: IdMapEntry; found?: string }> {
    const written = this.idsOf(scope, entity).get(sourceId)?.entry;
    const found = finding && (await this.getFound(scope, finding.resource, finding.runId, finding.key));
    return { ...(written ? { written } : {}), ...(found ? { found } : {}) };
  }

  private ledgerOf(runId: string) {
    let run = this.ledger.get(runId);
    if (!run) {
      run = new Map();
      this.ledger.set(runId, run);
    }
    return run;
  }

  async recordWrite(runId: string, result: WriteResult): Promise<void> {
    const run = this.ledgerOf(runId);
    const key = `${result.entity}#${result.sourceId}`;
    const earlier = run.get(key);
    run.set(key, {
      ...result,
      at: earlier?.at ?? new Date().toISOString(),
      // counted as first recorded, as the DynamoDB adapter's `counted` mark
      counted: earlier?.counted ?? result.outcome,
    });
  }

  async noteAttempt(runId: string, entity: CountedEntity, sourceId: string, reason: string): Promise<void> {
    const run = this.ledgerOf(runId);
    const key = `${entity}#${sourceId}`;
    run.set(key, { entity, sourceId, ...run.get(key), lastError: reason.slice(0, 500) });
  }

  async writeTotals(runId: string): Promise<WriteTotals> {
    return this.settleWriteTotals(runId);
  }

  async settleWriteTotals(runId: string): Promise<WriteTotals> {
    const totals: WriteTotals = {};
    for (const entry of this.ledgerOf(runId).values()) {
      if (!entry.counted) continue;
      const t = totals[entry.entity] ?? { created: 0, alreadyPresent: 0, updated: 0, failed: 0 };
      totals[entry.entity] = { ...t, [entry.counted]: t[entry.counted] + 1 };
    }
    return totals;
  }

  async *listWrites(runId: string): AsyncIterable<LedgerEntry> {
    for (const [, { counted: _counted, ...entry }] of byKey(this.ledgerOf(runId))) yield entry;
  }
}
