import { createHash } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import {
  ApiKeyError,
  keyLabel,
  parseApiKey,
  redactKeys,
  resolveBaseUrl,
  userKeyLabel,
} from '../../src/cliniko/api-key.js';

describe('parseApiKey', () => {
  it('takes the shard from the suffix after the last hyphen', () => {
    expect(parseApiKey('abc-def-ghi-uk2').shard).toBe('uk2');
    expect(parseApiKey('MxJrZXkiOiI1Njd1amJmZTQ1NyJ9-AU3').shard).toBe('au3');
  });

  it('treats a key without a hyphen as an old au1 key', () => {
    expect(parseApiKey('MxJrZXkiOiI1Njd1amJmZTQ1NyJ9').shard).toBe('au1');
  });

  it('rejects a malformed suffix with a message that names the problem but not the key', () => {
    const key = 'SecretBodyOfTheKey1234-notashard';
    expect(() => parseApiKey(key)).toThrow(ApiKeyError);
    try {
      parseApiKey(key);
    } catch (err) {
      expect((err as Error).message).toMatch(/shard suffix/);
      expect((err as Error).message).not.toContain('SecretBodyOfTheKey');
    }
  });

  it('rejects empty keys and keys with spaces', () => {
    expect(() => parseApiKey('   ')).toThrow(/empty/);
    expect(() => parseApiKey('abc def-au1')).toThrow(/spaces/);
  });

  it('builds the shard host unless CLINIKO_BASE_URL overrides it', () => {
    const key = parseApiKey('abcdefghij-ca1');
    expect(resolveBaseUrl(key)).toBe('https://api.ca1.cliniko.com/v1');
    expect(resolveBaseUrl(key, 'http://127.0.0.1:4010/v1/')).toBe('http://127.0.0.1:4010/v1');
  });
});

describe('redaction', () => {
  it('labels a key by a hash prefix that tells keys of one shard apart and holds none of the key', () => {
    const a = keyLabel('abcdefghij-au1');
    const b = keyLabel('klmnopqrst-au1');
    expect(a).toMatch(/^sha256:[0-9a-f]{8}$/);
    expect(a).toBe(`sha256:${createHash('sha256').update('abcdefghij-au1').digest('hex').slice(0, 8)}`);
    expect(a).not.toBe(b);
    expect(a).not.toContain('au1');
  });

  it("labels a key by its user's name where Cliniko said whose it is", () => {
    expect(userKeyLabel('abcdefghij-au1', { first_name: 'Hana', last_name: 'Ruru' })).toBe(
      `Hana Ruru (${keyLabel('abcdefghij-au1')})`,
    );
    expect(userKeyLabel('abcdefghij-au1', { first_name: ' ', last_name: '' })).toBe(
      keyLabel('abcdefghij-au1'),
    );
  });

  it('removes the key, its body and its Basic header from a text', () => {
    const key = 'SuperSecretKeyBody99-au1';
    const basic = Buffer.from(`${key}:`).toString('base64');
    const text = `key=${key} body=SuperSecretKeyBody99 header=Basic ${basic}`;
    const out = redactKeys(text, [key]);
    expect(out).not.toContain('SuperSecretKeyBody99');
    expect(out).not.toContain(basic);
  });
});
