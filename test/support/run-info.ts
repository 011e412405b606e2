import { parseConfig } from '../../src/config/migration-config.js';
import type { RunInfo } from '../../src/ports/runs.js';

/**
 * A complete run record as Preflight puts it in the status table (items read back are parsed by
 * RunInfo's schema, so a fixture must be whole); `overrides` give what a test is about.
 */
export function runInfo(overrides: Partial<RunInfo> = {}): RunInfo {
  return {
    runId: 'r1',
    clinicId: 'c1',
    account: { shard: 'au1', id: '1', businesses: [] },
    scope: 'c1@au1-1',
    mode: 'live',
    bucket: 'b',
    exportKey: 'exports/c1/x.zip',
    exportFile: 'x.zip',
    sha256: 'a'.repeat(64),
    startedAt: '2026-11-23T00:00:00.000Z',
    startedBy: 'test',
    config: parseConfig({}),
    practitioners: {},
    locations: {},
    defaultTimeZone: 'Pacific/Auckland',
    clinikoUsers: ['1'],
    target: 'test',
    ...overrides,
  };
}
