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

export class SecretsManagerSource implements SecretSource {
  private readonly cache = new Map<string, Promise<ClinikoCredentials>>();

  constructor(
    private readonly prefix: string,
    private readonly client: SecretsManagerClient = new SecretsManagerClient({}),
  ) {}

  credentials(clinicId: string): Promise<ClinikoCredentials> {
    let found = this.cache.get(clinicId);
    if (!found) {
      found = this.load(clinicId);
      this.cache.set(clinicId, found);
      found.catch(() => this.cache.delete(clinicId));
    }
    return found;
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
