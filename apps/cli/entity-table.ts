import { ENTITY_KEYS, type EntityCounts, type EntityKey } from '../../src/core/entities.js';

const fmt = (n: number) => n.toLocaleString('en-US');

const COLUMNS: readonly [string, keyof EntityCounts][] = [
  ['source', 'source'],
  ['planned', 'planned'],
  ['created', 'created'],
  ['present', 'alreadyPresent'],
  ['updated', 'updated'],
  ['skipped', 'skipped'],
  ['invalid', 'invalid'],
  ['failed', 'failed'],
  ['missing', 'missingFromExport'],
];

/** The counts of every entity as a plain-text table: what `run` ends with and `status` shows. */
export function printEntityTable(
  entities: Readonly<Record<EntityKey, EntityCounts>>,
  out: (line: string) => void,
): void {
  out(`${'entity'.padEnd(16)}${COLUMNS.map(([label]) => label.padStart(9)).join('')}`);
  for (const key of ENTITY_KEYS)
    out(`${key.padEnd(16)}${COLUMNS.map(([, field]) => fmt(entities[key][field]).padStart(9)).join('')}`);
}
