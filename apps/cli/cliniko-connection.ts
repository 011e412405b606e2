import { randomBytes } from 'node:crypto';
import { keyLabel } from '../../src/cliniko/api-key.js';
import { ClinikoClient } from '../../src/cliniko/client.js';
import { InMemoryBucketStore, RateLimiter } from '../../src/cliniko/rate-limiter.js';
import type * as M from '../../src/core/canonical.js';
import { isValidTimeZone } from '../../src/core/time-zone.js';
import type { ClinikoCredentials } from '../../src/ports/secrets.js';
import { applySeed, type SandboxSeed } from '../sandbox/seed.js';
import { type Sandbox, startSandbox } from '../sandbox/server.js';
import { keptSandbox, protect } from './sandbox-account.js';

/**
 * Where a run's Cliniko is: a real account (CLINIKO_API_KEY, or CLINIKO_API_KEYS for several
 * users; CLINIKO_BASE_URL or --cliniko-url to override the shard host), or an embedded sandbox,
 * seeded from the export's locations and practitioners as a clinic is asked to set them up.
 */
export interface ClinikoConnection {
  readonly client: ClinikoClient;
  /** What the pipeline's secret holds for this connection. */
  readonly credentials: ClinikoCredentials;
  readonly keys: number;
  readonly target: string;
  readonly sandbox?: Sandbox;
  /** Where the embedded sandbox's account is kept between runs, if it is. */
  readonly sandboxFile?: string;
  /** The embedded sandbox is the account an earlier run left (not a new one). */
  readonly sandboxKept?: boolean;
  close(): Promise<void>;
}

export function configuredKeys(env: NodeJS.ProcessEnv = process.env): string[] {
  const many =
    env.CLINIKO_API_KEYS?.split(',')
      .map((k) => k.trim())
      .filter(Boolean) ?? [];
  if (many.length) return many;
  return env.CLINIKO_API_KEY?.trim() ? [env.CLINIKO_API_KEY.trim()] : [];
}

export async function connectCliniko(options: {
  sandbox: boolean;
  clinikoUrl?: string;
  exportRefs: { locations: M.Location[]; practitioners: M.Practitioner[] };
  clinicTimeZone: string | undefined;
  /**
   * The configuration presumes the clinic created a practitioner named "Former practitioner"
   * (`unmatchedPractitioners: "former-practitioner"`): the embedded sandbox is given one.
   */
  formerPractitioner?: boolean;
  /** Requests per minute per user the embedded sandbox allows (Cliniko: 200). */
  sandboxRateLimit?: number;
  /**
   * The file the embedded sandbox's account is kept in between runs (`sandboxAccountFile`): a run
   * finds the account, and all it holds, as the last run left it. Without it the sandbox is new
   * and gone when the run ends.
   */
  sandboxStateFile?: string;
  /** Discard the kept sandbox account and start a new one (`run --sandbox --fresh`). */
  freshSandbox?: boolean;
  env?: NodeJS.ProcessEnv;
}): Promise<ClinikoConnection> {
  const env = options.env ?? process.env;
  const keys = configuredKeys(env);
  const userAgent = env.CLINIKO_USER_AGENT;
  if (!options.sandbox && keys.length) {
    const [key] = keys as [string];
    const client = new ClinikoClient({
      apiKey: key,
      ...(options.clinikoUrl || env.CLINIKO_BASE_URL
        ? { baseUrl: options.clinikoUrl ?? env.CLINIKO_BASE_URL }
        : {}),
      ...(userAgent ? { userAgent } : {}),
      limiter: new RateLimiter(new InMemoryBucketStore(), `key${keyLabel(key)}`),
    });
    const baseUrl = options.clinikoUrl ?? env.CLINIKO_BASE_URL;
    const credentials: ClinikoCredentials = {
      apiKeys: keys,
      ...(userAgent ? { userAgent } : {}),
      ...(baseUrl ? { baseUrl } : {}),
    };
    return { client, credentials, keys: keys.length, target: client.baseUrl, close: async () => {} };
  }
  const kept = await keptSandbox(options.sandboxStateFile, options.freshSandbox ?? false);
  const apiKey = kept?.apiKey ?? `${randomBytes(20).toString('hex')}-au1`;
  const seed = {
    users: [
      {
        first_name: 'Migration',
        last_name: 'Operator',
        role: 'administrator' as const,
        is_practitioner: false,
        api_key: apiKey,
      },
    ],
    businesses: sandboxBusinesses(options.exportRefs.locations, options.clinicTimeZone),
    practitioners: [
      ...options.exportRefs.practitioners.map((p) => ({
        first_name: p.firstName,
        last_name: p.lastName,
        active: !p.inactive,
      })),
      ...(options.formerPractitioner
        ? [{ first_name: 'Former', last_name: 'practitioner', active: true }]
        : []),
    ],
  } satisfies SandboxSeed;
  const sandbox = await startSandbox({
    ...(options.sandboxStateFile ? { stateFile: options.sandboxStateFile } : {}),
    // Used only for a new account: a kept one is as the last run left it (topped up below).
    seed,
    attachmentProcessingMs: 50,
    rateLimit: options.sandboxRateLimit ?? 200,
  });
  if (kept) topUp(sandbox, seed);
  const client = new ClinikoClient({
    apiKey,
    baseUrl: sandbox.baseUrl,
    ...(userAgent ? { userAgent } : {}),
    limiter: new RateLimiter(new InMemoryBucketStore(), 'sandbox', {
      limit: options.sandboxRateLimit ?? 200,
    }),
  });
  return {
    client,
    credentials: { apiKeys: [apiKey], baseUrl: sandbox.baseUrl, ...(userAgent ? { userAgent } : {}) },
    keys: 1,
    target: `embedded sandbox ${sandbox.baseUrl}`,
    sandbox,
    ...(options.sandboxStateFile ? { sandboxFile: options.sandboxStateFile } : {}),
    ...(kept ? { sandboxKept: true } : {}),
    close: async () => {
      await sandbox.close();
      if (options.sandboxStateFile) await protect(options.sandboxStateFile);
    },
  };
}

/**
 * Adds to a kept sandbox account the practitioners and businesses a later export names that it
 * lacks (matched by name), as the clinic would set them up in Cliniko before that export's run;
 * what the account holds already is left as it is.
 */
function topUp(sandbox: Sandbox, seed: Required<Pick<SandboxSeed, 'businesses' | 'practitioners'>>): void {
  const named = (r: Record<string, unknown>) => `${String(r.first_name)} ${String(r.last_name)}`;
  const practitioners = new Set(sandbox.state.all('practitioners').map(named));
  const businesses = new Set(sandbox.state.all('businesses').map((b) => String(b.business_name)));
  applySeed(sandbox.state, {
    businesses: seed.businesses.filter((b) => !businesses.has(b.business_name)),
    practitioners: seed.practitioners.filter((p) => !practitioners.has(named(p))),
  });
}

/** One business per active location (all of them if none is active), in the location's zone. */
function sandboxBusinesses(locations: readonly M.Location[], clinicZone: string | undefined) {
  const active = locations.filter((l) => !l.inactive);
  const chosen = active.length ? active : locations;
  if (!chosen.length)
    return [{ business_name: 'Clinic', ...(clinicZone ? { time_zone_identifier: clinicZone } : {}) }];
  return chosen.map((l) => {
    const zone = l.timeZone && isValidTimeZone(l.timeZone) ? l.timeZone : clinicZone;
    return { business_name: l.name, ...(zone ? { time_zone_identifier: zone } : {}) };
  });
}
