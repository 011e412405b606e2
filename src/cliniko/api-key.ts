import { createHash } from 'node:crypto';

/**
 * Cliniko API keys carry their shard as a suffix after the last hyphen (`…-au2`).
 * A key without a hyphen is an old key and belongs to `au1`.
 */
const SHARD_PATTERN = /^[a-z]{2}\d{1,2}$/i;

export class ApiKeyError extends Error {
  override name = 'ApiKeyError';
}

export interface ParsedApiKey {
  readonly key: string;
  readonly shard: string;
  /** What may be shown to an operator (`keyLabel`): a hash prefix, never part of the key. */
  readonly label: string;
}

/**
 * How a key is shown where its user is not known: `sha256:` and the first 8 hex digits of the
 * key's SHA-256 (an operator checks one with `printf %s "$KEY" | sha256sum`). The last four
 * characters used before are the shard suffix (`-au1`) of every Cliniko key, so they told no two
 * keys apart (issue 23); 32 bits of a hash do, and reveal nothing of the key.
 */
export function keyLabel(key: string): string {
  return `sha256:${createHash('sha256').update(key).digest('hex').slice(0, 8)}`;
}

/**
 * How a key is shown once Cliniko has said whose it is (`GET /user`): the user's name, and the
 * hash prefix of `keyLabel` (one user may hold several keys). E.g. `Hana Ruru (sha256:1a2b3c4d)`.
 */
export function userKeyLabel(
  key: string,
  user: { readonly first_name: string; readonly last_name: string },
): string {
  const name = [user.first_name, user.last_name]
    .map((s) => s.trim())
    .filter(Boolean)
    .join(' ');
  return name ? `${name} (${keyLabel(key)})` : keyLabel(key);
}

export function parseApiKey(raw: string): ParsedApiKey {
  const key = raw.trim();
  if (key.length === 0) {
    throw new ApiKeyError(
      'The Cliniko API key is empty. Set CLINIKO_API_KEY to a key made under My Info → Manage API keys.',
    );
  }
  if (/\s|:/.test(key)) {
    throw new ApiKeyError(
      `The Cliniko API key ${keyLabel(key)} contains spaces or a colon; copy it again from Cliniko.`,
    );
  }
  const dash = key.lastIndexOf('-');
  if (dash === -1) return { key, shard: 'au1', label: keyLabel(key) };
  const suffix = key.slice(dash + 1);
  if (dash === 0 || !SHARD_PATTERN.test(suffix)) {
    throw new ApiKeyError(
      `The Cliniko API key ${keyLabel(key)} does not end in a shard suffix such as "-au1" or "-uk2" (found "-${suffix.slice(0, 4)}"). Copy the whole key from Cliniko.`,
    );
  }
  return { key, shard: suffix.toLowerCase(), label: keyLabel(key) };
}

export function shardBaseUrl(shard: string): string {
  return `https://api.${shard}.cliniko.com/v1`;
}

/** Base URL for a key: `CLINIKO_BASE_URL` (for a sandbox) wins over the key's shard host. */
export function resolveBaseUrl(parsed: ParsedApiKey, override?: string): string {
  const base = override?.trim() ? override.trim() : shardBaseUrl(parsed.shard);
  return base.replace(/\/+$/, '');
}

/** Replaces every occurrence of the given keys in a text, so errors and logs never carry one. */
export function redactKeys(text: string, keys: readonly string[]): string {
  let out = text;
  for (const key of keys) {
    if (key.length < 8) continue;
    out = out.split(key).join(keyLabel(key));
    const body = key.includes('-') ? key.slice(0, key.lastIndexOf('-')) : key;
    if (body.length >= 8) out = out.split(body).join(keyLabel(key));
    const basic = Buffer.from(`${key}:`).toString('base64');
    out = out.split(basic).join('[redacted]');
  }
  return out;
}
