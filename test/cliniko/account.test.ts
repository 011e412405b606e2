import { describe, expect, it } from '@jest/globals';
import { AccountMismatchError, identifyAccount } from '../../src/cliniko/account.js';
import { parseApiKey } from '../../src/cliniko/api-key.js';
import type { ClinikoClient } from '../../src/cliniko/client.js';

/**
 * Keys that each answer `GET /settings/public` after `answerMs` with an account id, counting how
 * many questions are open at once.
 */
function keys(accounts: readonly string[], answerMs = 30) {
  let open = 0;
  let most = 0;
  const clients = accounts.map(
    (id, i) =>
      ({
        key: parseApiKey(`AccountTestKey${String(i).padStart(16, '0')}-au1`),
        getPublicSettings: async () => {
          open += 1;
          most = Math.max(most, open);
          await new Promise((r) => setTimeout(r, answerMs));
          open -= 1;
          return { account: { id, subdomain: `clinic-${id}` } };
        },
      }) as unknown as ClinikoClient,
  );
  return { clients, mostOpen: () => most };
}

describe('identifyAccount', () => {
  it('asks every key at once, not one after another', async () => {
    const k = keys(['1', '1', '1', '1', '1', '1']);
    const account = await identifyAccount(k.clients, [{ business_name: 'Clinic' }]);
    expect(account).toMatchObject({ shard: 'au1', id: '1', businesses: ['Clinic'] });
    expect(k.mostOpen()).toBe(6);
  });

  it('names the first key, in key order, that belongs to another account', async () => {
    const k = keys(['1', '1', '2', '3']);
    const refused = await identifyAccount(k.clients, []).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(AccountMismatchError);
    expect((refused as Error).message).toMatch(/^API key 3 belongs to another Cliniko account .* than key 1/);
  });
});
