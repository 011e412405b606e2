/**
 * Fault injection: `5xx=0.05,429=0.02,drop-after-commit=0.01,latency=50ms`.
 * `drop-after-commit` saves the record and then cuts the connection before any answer, which is
 * exactly the case a client must not turn into a duplicate.
 */
export interface FaultSpec {
  serverError: number;
  rateLimited: number;
  dropAfterCommit: number;
  latencyMs: number;
}

export const NO_FAULTS: FaultSpec = { serverError: 0, rateLimited: 0, dropAfterCommit: 0, latencyMs: 0 };

export function parseFaults(spec: string | undefined): FaultSpec {
  const faults: FaultSpec = { ...NO_FAULTS };
  if (!spec?.trim()) return faults;
  for (const part of spec.split(',')) {
    const [rawName, rawValue] = part.split('=').map((s) => s.trim());
    const name = rawName?.toLowerCase();
    if (!name || rawValue === undefined) throw new Error(`--faults: "${part}" is not name=value`);
    if (name === 'latency') {
      const m = /^(\d+)(ms|s)?$/.exec(rawValue);
      if (!m) throw new Error(`--faults: latency "${rawValue}" is not a duration like 50ms`);
      faults.latencyMs = Number(m[1]) * (m[2] === 's' ? 1000 : 1);
      continue;
    }
    const p = Number(rawValue);
    if (!(p >= 0 && p <= 1))
      throw new Error(`--faults: ${name} needs a probability between 0 and 1, got "${rawValue}"`);
    if (name === '5xx' || name === '500') faults.serverError = p;
    else if (name === '429') faults.rateLimited = p;
    else if (name === 'drop-after-commit' || name === 'drop') faults.dropAfterCommit = p;
    else throw new Error(`--faults: unknown fault "${name}" (known: 5xx, 429, drop-after-commit, latency)`);
  }
  return faults;
}

export { seededRandom } from '../../src/core/random.js';
