/** The secrets port: a clinic's Cliniko keys (Secrets Manager on AWS). */
export interface ClinikoCredentials {
  readonly apiKeys: readonly string[];
  readonly userAgent?: string;
  readonly baseUrl?: string;
}

export interface SecretSource {
  /** The clinic's keys; throws when the secret is missing or malformed. */
  credentials(clinicId: string): Promise<ClinikoCredentials>;
}
