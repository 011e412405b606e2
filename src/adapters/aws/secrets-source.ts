import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { z } from 'zod';
import type { ClinikoCredentials, SecretSource } from '../../ports/secrets.js';

/** A clinic's secret: `{"apiKeys": ["…-au1"], "userAgent": "Clinic (it@clinic.example)", "baseUrl"?: "…"}`. */
const ClinicSecret = z.object({
  apiKeys: z.array(z.string().min(8)).min(1),
  userAgent: z.string().optional(),
  baseUrl: z.string().optional(),
});

/** The secret's name for a clinic: the prefix and the clinic id. */
export const secretName = (prefix: string, clinicId: string) => `${prefix}${clinicId}`;

/** How long a clinic's secret is used before it is read again, by default: 5 minutes (CLINIKO_SECRET_MAX_AGE_SECONDS). */
export const DEFAULT_SECRET_MAX_AGE_MS = 5 * 60_000;

/**
 * The clinic secrets from Secrets Manager, each kept at most `maxAgeMs` (milliseconds, default
 * {@link DEFAULT_SECRET_MAX_AGE_MS}) from when it was read, as Powertools' parameters utility does
 * with its `maxAge`: a key rotated in the secret reaches a warm container within that time, where
 * a cache without an age kept the old key for the container's life. A read that failed is not
 * kept. {@link forget} drops a clinic's secret at once (Cliniko refused its key: 401).
 * `now`: the clock, ms since the epoch (tests inject one).
 */
export class SecretsManagerSource implements SecretSource {
  private readonly cache = new Map<
    string,
    { readonly readAt: number; readonly value: Promise<ClinikoCredentials> }
  >();
  private readonly maxAgeMs: number;
  private readonly now: () => number;

  constructor(
    private readonly prefix: string,
    private readonly client: SecretsManagerClient = new SecretsManagerClient({}),
    options: { readonly maxAgeMs?: number; readonly now?: () => number } = {},
  ) {
    this.maxAgeMs = options.maxAgeMs ?? DEFAULT_SECRET_MAX_AGE_MS;
    this.now = options.now ?? Date.now;
  }

  credentials(clinicId: string): Promise<ClinikoCredentials> {
    const now = this.now();
    const found = this.cache.get(clinicId);
    if (found && now - found.readAt < this.maxAgeMs) return found.value;
    const entry = { readAt: now, value: this.load(clinicId) };
    this.cache.set(clinicId, entry);
    // only this read is dropped: a newer one started since stays
    entry.value.catch(() => {
      if (this.cache.get(clinicId) === entry) this.cache.delete(clinicId);
    });
    return entry.value;
  }

  /** Drops the clinic's kept secret: the next {@link credentials} reads it again. */
  forget(clinicId: string): void {
    this.cache.delete(clinicId);
  }

  /** Drops every kept secret (a 401 where the clinic is not known): each is read again when next used. */
  forgetAll(): void {
    this.cache.clear();
  }

  private async load(clinicId: string): Promise<ClinikoCredentials> {
    const res = await this.client.send(
      new GetSecretValueCommand({ SecretId: secretName(this.prefix, clinicId) }),
    );
    const parsed = ClinicSecret.safeParse(JSON.parse(res.SecretString ?? '{}'));
    // The message names the fields only: the secret's values never reach a log.
    if (!parsed.success)
      throw new Error(
        `the secret ${secretName(this.prefix, clinicId)} is not {"apiKeys": [...]} (${parsed.error.issues.map((i) => i.path.join('.')).join(', ')})`,
      );
    return parsed.data;
  }
}
