import type { SandboxSeed } from '../../apps/sandbox/seed.js';
import { type Sandbox, type SandboxOptions, startSandbox } from '../../apps/sandbox/server.js';
import { ClinikoClient, type ClinikoClientOptions } from '../../src/cliniko/client.js';

export const TEST_KEY = 'MxJrZXkiOiI1Njd1amJmZTQ1NyJ9-Zm9vYmFy-au2';
export const OTHER_KEY = 'T3RoZXJVc2VyS2V5MTIzNDU2Nzg5MA-au2';

export const testSeed: SandboxSeed = {
  users: [
    {
      first_name: 'Ada',
      last_name: 'Admin',
      role: 'administrator',
      is_practitioner: true,
      api_key: TEST_KEY,
    },
    { first_name: 'Rita', last_name: 'Reception', role: 'receptionist', api_key: OTHER_KEY },
  ],
  businesses: [
    { business_name: 'Harbour Physio', time_zone_identifier: 'Pacific/Auckland' },
    { business_name: 'City Clinic', time_zone_identifier: 'Australia/Sydney' },
  ],
  practitioners: [
    { first_name: 'Pat', last_name: 'Smith' },
    { first_name: 'Former', last_name: 'Practitioner', active: false },
  ],
};

export async function withSandbox(options: SandboxOptions = {}): Promise<Sandbox> {
  return startSandbox({ shard: 'au2', seed: testSeed, attachmentProcessingMs: 20, ...options });
}

export function clientFor(sandbox: Sandbox, options: Partial<ClinikoClientOptions> = {}): ClinikoClient {
  return new ClinikoClient({
    apiKey: TEST_KEY,
    baseUrl: sandbox.baseUrl,
    userAgent: 'cliniko-migrate tests (tests@example.com)',
    retry: { baseDelayMs: 5, maxDelayMs: 50 },
    ...options,
  });
}

/**
 * The account the end-to-end tests migrate a clinic into: an administrator who is a practitioner
 * and holds `apiKey`, the business and the practitioner that the test exports name (BASE in
 * exports.ts), and, when given, the account's id and name.
 */
export function clinicSeed(apiKey: string, account?: { id: string; name: string }): SandboxSeed {
  return {
    ...(account ? { account } : {}),
    users: [{ first_name: 'Ops', last_name: 'Admin', is_practitioner: true, api_key: apiKey }],
    businesses: [{ business_name: 'Auckland Central', time_zone_identifier: 'Pacific/Auckland' }],
    practitioners: [{ first_name: 'Hana', last_name: 'Ruru' }],
  };
}

/** A sandbox of {@link clinicSeed}, unlimited for tests and quick to process attachments. */
export function clinicSandbox(
  apiKey: string,
  options: Omit<SandboxOptions, 'seed'> & { account?: { id: string; name: string } } = {},
): Promise<Sandbox> {
  const { account, ...rest } = options;
  return startSandbox({
    rateLimit: 100_000,
    attachmentProcessingMs: 10,
    seed: clinicSeed(apiKey, account),
    ...rest,
  });
}
