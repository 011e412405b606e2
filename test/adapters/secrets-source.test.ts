import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { beforeEach, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { DEFAULT_SECRET_MAX_AGE_MS, SecretsManagerSource } from '../../src/adapters/aws/secrets-source.js';

/**
 * A clinic's secret kept in a warm container at most its maximum age (issue 24): a key rotated
 * in Secrets Manager is used within that time, and at once after Cliniko refused the old one.
 */
const sm = mockClient(SecretsManagerClient);
let version = 0;
let malformed = false;
beforeEach(() => {
  sm.reset();
  version = 0;
  sm.on(GetSecretValueCommand).callsFake(() => {
    version++;
    if (malformed) {
      malformed = false;
      return { SecretString: JSON.stringify({ apiKeys: ['short'] }) };
    }
    return { SecretString: JSON.stringify({ apiKeys: [`Key${version}000000000000000000-au1`] }) };
  });
});

const clock = () => {
  let ms = Date.parse('2026-12-05T07:00:00Z');
  return {
    now: () => ms,
    advance: (by: number) => {
      ms += by;
    },
  };
};

describe('SecretsManagerSource', () => {
  it('reads a secret once within its maximum age, and again once it has passed', async () => {
    const t = clock();
    const source = new SecretsManagerSource('p/', new SecretsManagerClient({}), {
      maxAgeMs: 60_000,
      now: t.now,
    });
    expect((await source.credentials('c1')).apiKeys[0]).toMatch(/^Key1/);
    t.advance(59_999);
    expect((await source.credentials('c1')).apiKeys[0]).toMatch(/^Key1/);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    t.advance(1);
    expect((await source.credentials('c1')).apiKeys[0]).toMatch(/^Key2/);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
    expect(sm.commandCalls(GetSecretValueCommand)[1]?.args[0].input).toEqual({ SecretId: 'p/c1' });
  });

  it('keeps a secret five minutes unless told', async () => {
    expect(DEFAULT_SECRET_MAX_AGE_MS).toBe(300_000);
    const t = clock();
    const source = new SecretsManagerSource('p/', new SecretsManagerClient({}), { now: t.now });
    await source.credentials('c1');
    t.advance(299_999);
    await source.credentials('c1');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    t.advance(1);
    await source.credentials('c1');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });

  it('reads a forgotten secret (Cliniko refused its key) again at once, other clinics’ kept', async () => {
    const t = clock();
    const source = new SecretsManagerSource('p/', new SecretsManagerClient({}), { now: t.now });
    await source.credentials('c1');
    await source.credentials('c2');
    source.forget('c1');
    expect((await source.credentials('c1')).apiKeys[0]).toMatch(/^Key3/);
    expect((await source.credentials('c2')).apiKeys[0]).toMatch(/^Key2/);
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(3);
  });

  it('does not keep a read that failed, and names only the fields of a malformed secret', async () => {
    const t = clock();
    const source = new SecretsManagerSource('p/', new SecretsManagerClient({}), { now: t.now });
    malformed = true;
    const refused = source.credentials('c1');
    await expect(refused).rejects.toThrow('the secret p/c1 is not {"apiKeys": [...]} (apiKeys.0)');
    await expect(refused).rejects.not.toThrow('short');
    await expect(source.credentials('c1')).resolves.toEqual({ apiKeys: ['Key2000000000000000000-au1'] });
  });
});
