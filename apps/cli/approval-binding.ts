import { createHash } from 'node:crypto';
import { keyLabel, parseApiKey } from '../../src/cliniko/api-key.js';
import type { MigrationConfig } from '../../src/config/migration-config.js';

/**
 * What a sign-off binds besides the export's sha256 (docs/RUNNING.md, `approve`, issue 14): the
 * effective configuration and the Cliniko account the dry run checked. A live run under that
 * approval with another configuration or another account is refused, naming the difference.
 */

/** The effective configuration (defaults applied): its hash, and the fields a person reads. */
export interface ConfigBinding {
  readonly sha256: string;
  /** Field by field, as JSON text, so a difference can be named. */
  readonly fields: Record<string, string>;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object')
    return Object.fromEntries(
      Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([k, v]) => [k, canonical(v)]),
    );
  return value;
}

export function configBinding(config: MigrationConfig): ConfigBinding {
  const sorted = canonical(config) as Record<string, unknown>;
  const fields = Object.fromEntries(Object.entries(sorted).map(([k, v]) => [k, JSON.stringify(v)]));
  const sha256 = createHash('sha256').update(JSON.stringify(sorted)).digest('hex');
  return { sha256, fields };
}

/** One line an approver reads: the fields that decide what is written. */
export function configSummary(binding: ConfigBinding): string {
  return Object.entries(binding.fields)
    .filter(([, v]) => v !== '{}')
    .map(([k, v]) => `${k} ${v.replace(/^"|"$/g, '')}`)
    .join(', ');
}

/** The differences between an approved configuration and this run's, one phrase per field. */
export function configDifferences(approved: ConfigBinding, now: ConfigBinding): string[] {
  if (approved.sha256 === now.sha256) return [];
  const names = [...new Set([...Object.keys(approved.fields), ...Object.keys(now.fields)])].sort();
  return names
    .filter((k) => approved.fields[k] !== now.fields[k])
    .map((k) => `${k}: approved ${approved.fields[k] ?? '(absent)'}, now ${now.fields[k] ?? '(absent)'}`);
}

/**
 * The Cliniko account a run went to. Until runs know their account's identity (issue 11), it is
 * described by what reaches it: the shard, the base URL and a fingerprint of each key (a hash,
 * never the key; the label shows its last four characters). An embedded sandbox is its own kind.
 * `id` is what is compared; `description` is what the operator reads.
 */
export interface TargetBinding {
  readonly id: string;
  readonly description: string;
}

export function targetBinding(target: {
  readonly sandbox: boolean;
  readonly baseUrl: string;
  readonly apiKeys: readonly string[];
}): TargetBinding {
  if (target.sandbox) return { id: 'embedded-sandbox', description: 'an embedded Cliniko sandbox' };
  const shard = target.apiKeys[0] ? parseApiKey(target.apiKeys[0]).shard : 'unknown';
  const fingerprints = target.apiKeys
    .map((k) => createHash('sha256').update(k).digest('hex').slice(0, 16))
    .sort();
  const id = createHash('sha256')
    .update(JSON.stringify({ shard, baseUrl: target.baseUrl, fingerprints }))
    .digest('hex');
  return {
    id,
    description: `Cliniko ${shard} at ${target.baseUrl} with key${target.apiKeys.length > 1 ? 's' : ''} ${target.apiKeys.map(keyLabel).join(', ')}`,
  };
}
