import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import { readReferenceTables } from '../../src/batch/reference-tables.js';
import {
  AccountMismatchError,
  type ClinikoAccount,
  identifyAccount,
  stateScope,
} from '../../src/cliniko/account.js';
import { userKeyLabel } from '../../src/cliniko/api-key.js';
import type { ClinikoClient } from '../../src/cliniko/client.js';
import { ClinikoError } from '../../src/cliniko/errors.js';
import {
  ConfigError,
  type MigrationConfig,
  parseConfig,
  parseConfigText,
} from '../../src/config/migration-config.js';
import { ApprovalMarker } from '../../src/core/approval.js';
import type { Problem } from '../../src/core/problem.js';
import { LeaseHeldError } from '../../src/lease/account-lease.js';
import type { BlobStore } from '../../src/ports/blobs.js';
import { keys } from '../../src/ports/bucket-keys.js';
import type { ClinicHold } from '../../src/ports/clinic-gate.js';
import type { DryRunRegistry, RunInfo, RunStore } from '../../src/ports/runs.js';
import type { ClinikoCredentials, SecretSource } from '../../src/ports/secrets.js';
import { RECONCILE_ORDER } from '../../src/reconcile/resources.js';
import { resolveLocations, resolvePractitioners } from '../../src/resolve/references.js';
import { ArchiveError, openZipSource } from '../../src/source/archive.js';
import { checkIsExport, checkRefusals, ExportRefusedError } from '../../src/source/export-checks.js';
import { readManifest } from '../../src/source/manifest.js';
import type { SourceProfile } from '../../src/source/profile.js';
import type { PreflightInput, PreflightOutput } from './io.js';

export interface PreflightDeps {
  readonly blobs: BlobStore;
  readonly store: RunStore & DryRunRegistry;
  readonly secrets: SecretSource;
  readonly cliniko: (credentials: ClinikoCredentials, keyIndex: number) => ClinikoClient;
  readonly profile: SourceProfile;
  readonly now: () => Date;
  /**
   * Takes the Cliniko account's lease for a live run (lambdas/shared/lease.ts `takeLease`), before
   * the run is recorded and anything is written. @throws LeaseHeldError naming the holder.
   */
  readonly takeLease?: (client: ClinikoClient, run: RunInfo) => Promise<unknown>;
  /**
   * The run holding the clinic's gate (the ClinicGate's `holder`): a run StartRun started holds it
   * now, and records the hold so its renewals can take it again should it lapse (issue 23).
   */
  readonly clinicHolder?: (clinicId: string) => Promise<ClinicHold | undefined>;
}

/**
 * The clinic hold a run records (RunInfo `clinicHold`): the gate's `holder` when it is this run's
 * (StartRun took it), else what an earlier Preflight of the run recorded (a retried Preflight
 * after the hold lapsed), else none (a run started by the CLI or the local runtime).
 */
export function clinicHoldOf(
  runId: string,
  holder: ClinicHold | undefined,
  earlier: Pick<RunInfo, 'clinicHold'> | undefined,
): RunInfo['clinicHold'] {
  return holder?.runId === runId
    ? { exportKey: holder.exportKey, takenAt: holder.takenAt }
    : earlier?.clinicHold;
}

export async function preflight(input: PreflightInput, deps: PreflightDeps): Promise<PreflightOutput> {
  const failures: string[] = [];
  const fail = (message: string): PreflightOutput => ({
    runId: input.runId,
    ok: false,
    mode: input.mode,
    failures: [...failures, message],
    duplicationRisk: 0,
  });

  let config: MigrationConfig;
  try {
    // Read as text and parsed as the CLI parses the file, so invalid JSON is named by line and
    // column as an editor jumps to it; no object means the defaults.
    const configKey = keys.config(input.clinicId);
    const text = await deps.blobs.getText(input.bucket, configKey);
    config = text === undefined ? parseConfig({}, configKey) : parseConfigText(text, configKey);
  } catch (err) {
    if (err instanceof ConfigError) return fail(err.message);
    throw err;
  }
  let credentials: ClinikoCredentials;
  try {
    credentials = await deps.secrets.credentials(input.clinicId);
  } catch (err) {
    return fail(`No Cliniko API key for clinic ${input.clinicId}: ${(err as Error).message}`);
  }
  if (!credentials.apiKeys.length) return fail(`The secret of clinic ${input.clinicId} holds no API key.`);

  const source = await deps.blobs.byteSource(input.bucket, input.key);
  const archive = await openZipSource(source);
  const problems: Problem[] = [];
  try {
    const manifest = await readManifest(archive);
    checkRefusals(deps.profile, manifest, basename(input.key));
    checkIsExport(deps.profile, archive, basename(input.key));
    const hash = createHash('sha256');
    for await (const chunk of await deps.blobs.read(input.bucket, input.key)) hash.update(chunk as Buffer);
    const sha256 = hash.digest('hex');
    const refsFromExport = await readReferenceTables(archive, deps.profile, config, (p) => problems.push(p));

    const users: string[] = [];
    /** Each key as the audit trail shows it: its user's name and a hash prefix. */
    const labels: string[] = [];
    // Native notes are authored by the practitioner of the key that writes them (Cliniko's API
    // documentation on treatment notes): whose is each key?
    const native = config.clinicalNotes === 'native' || config.clinicalNotes === 'native+pdf';
    const keyPractitioners: (string | null)[] = [];
    const clients = credentials.apiKeys.map((_, i) => deps.cliniko(credentials, i));
    // Every key is asked at once (a practice with many keys waits one round trip, not one per
    // key); the answers are judged in key order, so the first bad key is the one named.
    const owners = await Promise.allSettled(
      clients.map(async (keyClient) =>
        native ? keyClient.keyPractitioner() : { user: await keyClient.getCurrentUser(), practitioner: null },
      ),
    );
    for (const [i, owner] of owners.entries()) {
      if (owner.status === 'rejected') {
        if (owner.reason instanceof ClinikoError) return fail(`API key ${i + 1}: ${owner.reason.message}`);
        throw owner.reason;
      }
      users.push(owner.value.user.id);
      labels.push(userKeyLabel(credentials.apiKeys[i] ?? '', owner.value.user));
      if (native) keyPractitioners.push(owner.value.practitioner?.id ?? null);
    }
    const client = clients[0] ?? deps.cliniko(credentials, 0);
    const [practitioners, businesses] = await Promise.all([
      client.listPractitioners({ includeInactive: true }),
      client.listBusinesses(),
    ]);
    // Which account the keys write to, before anything of the clinic's state is read.
    let account: ClinikoAccount;
    try {
      account = await identifyAccount(clients, businesses);
    } catch (err) {
      if (err instanceof AccountMismatchError || err instanceof ClinikoError) return fail(err.message);
      throw err;
    }
    const scope = stateScope(input.clinicId, account);
    if (input.approvalKey) {
      const refused = await approvalRefusal(input, sha256, scope, deps);
      if (refused) return fail(refused);
    }
    if (!businesses.length)
      return fail(
        "Cliniko has no business: create the clinic's businesses (locations) in Cliniko before the transfer.",
      );
    if (!practitioners.length)
      return fail(
        "Cliniko has no practitioner: add the clinic's practitioners in Cliniko before the transfer.",
      );
    let prac: ReturnType<typeof resolvePractitioners>;
    let locs: ReturnType<typeof resolveLocations>;
    try {
      prac = resolvePractitioners(refsFromExport.practitioners, practitioners, config);
      locs = resolveLocations(refsFromExport.locations, businesses, config, manifest?.timeZone);
    } catch (err) {
      if (err instanceof ConfigError) return fail(err.message);
      throw err;
    }
    for (const n of locs.notes)
      problems.push({
        entity: 'locations',
        file: refsFromExport.files.locations,
        row: refsFromExport.rowOf.get(`L:${n.sourceId}`) ?? 0,
        ...n,
      });
    for (const n of prac.notes)
      problems.push({
        entity: 'practitioners',
        file: refsFromExport.files.practitioners,
        row: refsFromExport.rowOf.get(`P:${n.sourceId}`) ?? 0,
        ...n,
      });

    // A resumed run (the same run id again, issue 23) keeps its start: what it created before it was
    // interrupted stays its own for a re-find's and a rollback's "there before the run" test.
    const earlier = await deps.store.getRun(input.runId).catch(() => undefined);
    const clinicHold = clinicHoldOf(input.runId, await deps.clinicHolder?.(input.clinicId), earlier);
    const run: RunInfo = {
      runId: input.runId,
      clinicId: input.clinicId,
      account,
      scope,
      mode: input.mode,
      bucket: input.bucket,
      exportKey: input.key,
      exportFile: basename(input.key),
      sha256,
      startedAt: earlier?.startedAt ?? deps.now().toISOString(),
      startedBy: input.startedBy ?? 'unknown',
      config,
      ...(manifest ? { manifest } : {}),
      practitioners: Object.fromEntries(prac.refs),
      locations: Object.fromEntries(locs.refs),
      ...(locs.defaultBusinessId ? { defaultBusinessId: locs.defaultBusinessId } : {}),
      defaultTimeZone: locs.defaultTimeZone,
      ...clinicName(businesses, locs.defaultBusinessId),
      clinikoUsers: users,
      ...(native ? { keyPractitioners } : {}),
      keyLabels: labels,
      ...(input.approvalKey ? { approvalKey: input.approvalKey } : {}),
      ...(clinicHold ? { clinicHold } : {}),
      target: client.baseUrl,
    };
    // One writer per account: a second live run is refused here, before its first write.
    if (input.mode === 'live' && deps.takeLease) {
      try {
        await deps.takeLease(client, run);
      } catch (err) {
        if (err instanceof LeaseHeldError) return fail(err.message);
        throw err;
      }
    }
    await deps.store.putRun(run);
    await deps.blobs.putJson(input.bucket, keys.problems(input.runId, 'preflight'), problems);
    // Reconcile's work reaches its Distributed Map from S3 (ItemReader), as the phases' batches do.
    const reconcileManifest = keys.manifest(input.runId, 'reconcile');
    await deps.blobs.putJson(input.bucket, reconcileManifest, RECONCILE_ORDER);
    return {
      runId: input.runId,
      ok: true,
      mode: input.mode,
      failures,
      duplicationRisk: 0,
      reconcile: RECONCILE_ORDER,
      reconcileManifest,
    };
  } catch (err) {
    if (err instanceof ConfigError || err instanceof ExportRefusedError || err instanceof ArchiveError)
      return fail(err.message);
    throw err;
  } finally {
    await archive.close();
  }
}

function clinicName(
  businesses: readonly { id: string; business_name?: string | null }[],
  defaultId: string | undefined,
): { clinicName?: string } {
  const name = (businesses.find((b) => b.id === defaultId) ?? businesses[0])?.business_name;
  return name ? { clinicName: name } : {};
}

/** Why a signed-off live run may not go ahead: no finished dry run of this very export. */
export async function approvalRefusal(
  input: PreflightInput,
  sha256: string,
  scope: string,
  deps: { readonly blobs: Pick<BlobStore, 'getJson'>; readonly store: Pick<DryRunRegistry, 'dryRunFor'> },
): Promise<string | undefined> {
  let marker: ApprovalMarker = {};
  try {
    marker = (await deps.blobs.getJson(input.bucket, input.approvalKey ?? '', ApprovalMarker)) ?? {};
  } catch {
    // A marker dropped by hand may be empty or not JSON: it approves the export's dry run as it is.
  }
  const short = (s: string) => `${s.slice(0, 12)}…`;
  if (marker.sha256 && marker.sha256 !== sha256)
    return `${basename(input.key)} changed after its dry run was approved (sha256 ${short(marker.sha256)} approved, ${short(sha256)} now): run a dry run of the new export and approve that`;
  const dryRun = await deps.store.dryRunFor(scope, sha256);
  if (!dryRun)
    return `${basename(input.key)} (sha256 ${short(sha256)}) has no finished dry run into this Cliniko account: a live run starts only after the export's dry run has been checked and approved`;
  return undefined;
}
