import type { ClinikoCredentials, SecretSource } from '../../ports/secrets.js';

/** The secrets port in one process: the keys the operator gave, for the one clinic of the run. */
export class FixedSecretSource implements SecretSource {
  constructor(private readonly keys: ClinikoCredentials) {}

  async credentials(): Promise<ClinikoCredentials> {
    return this.keys;
  }
}
