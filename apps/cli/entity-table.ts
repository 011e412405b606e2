import { displayName, ENTITY_KEYS, type EntityCounts, type EntityKey } from '../../src/core/entities.js';

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

/** The width of a table's first column: its longest display name and a gap of two spaces. */
export function nameColumnWidth(keys: Iterable<string>, heading = 'entity'): number {
  let widest = heading.length;
  for (const key of keys) widest = Math.max(widest, displayName(key).length);
  return widest + 2;
}

/** The counts of every entity as a plain-text table: what `run` ends with and `status` shows. */
export function printEntityTable(
  entities: Readonly<Record<EntityKey, EntityCounts>>,
  out: (line: string) => void,
): void {
  const width = nameColumnWidth(ENTITY_KEYS);
  out(`${'entity'.padEnd(width)}${COLUMNS.map(([label]) => label.padStart(9)).join('')}`);
  for (const key of ENTITY_KEYS)
    out(
      `${displayName(key).padEnd(width)}${COLUMNS.map(([, field]) => fmt(entities[key][field]).padStart(9)).join('')}`,
    );
}
