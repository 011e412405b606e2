import { describe, expect, it } from '@jest/globals';
import { countedAs, decideWrite } from '../../src/batch/write-decision.js';
import type { IdMapEntry } from '../../src/ports/id-map.js';

const entry = (over: Partial<IdMapEntry> = {}): IdMapEntry => ({
  clinikoId: '77',
  hash: 'h1',
  runId: 'run-1',
  at: '2026-01-01T00:00:00.000Z',
  steps: [],
  ...over,
});

describe('decideWrite: the one decision of the live writer and the dry run', () => {
  it('creates what neither the id map nor the account holds', () => {
    const d = decideWrite({ entity: 'patients', hash: 'h1', runId: 'run-2' });
    expect(d).toEqual({ action: 'create', why: 'new' });
    expect(countedAs(d)).toBe('planned');
  });

  it('counts an unchanged record an earlier run wrote as present, a changed one as updated', () => {
    const same = decideWrite({ entity: 'patients', hash: 'h1', runId: 'run-2', written: entry() });
    expect(same).toEqual({ action: 'alreadyPresent', why: 'writtenEarlier', clinikoId: '77' });
    const changed = decideWrite({ entity: 'appointments', hash: 'h2', runId: 'run-2', written: entry() });
    expect(changed).toEqual({ action: 'update', why: 'changed', clinikoId: '77' });
    expect(countedAs(changed)).toBe('updated');
  });

  it('never updates a record found rather than written, nor entities that are kept as they are', () => {
    const found = entry({ hash: '', runId: 'found-in-cliniko' });
    expect(decideWrite({ entity: 'patients', hash: 'h2', runId: 'run-2', written: found }).action).toBe(
      'alreadyPresent',
    );
    expect(decideWrite({ entity: 'letters', hash: 'h2', runId: 'run-2', written: entry() }).action).toBe(
      'alreadyPresent',
    );
  });

  it("knows a redelivered message's record as this run's own", () => {
    expect(decideWrite({ entity: 'patients', hash: 'h9', runId: 'run-1', written: entry() }).action).toBe(
      'created',
    );
    const updated = entry({ updatedIn: 'run-2' });
    expect(decideWrite({ entity: 'patients', hash: 'h9', runId: 'run-2', written: updated }).action).toBe(
      'updated',
    );
  });

  it('adopts a linked patient before a finding, and a finding before creating', () => {
    expect(
      decideWrite({ entity: 'patients', hash: 'h', runId: 'r', link: { clinikoId: '5' }, found: '6' }),
    ).toEqual({ action: 'alreadyPresent', why: 'linked', clinikoId: '5' });
    expect(decideWrite({ entity: 'contacts', hash: 'h', runId: 'r', found: '6' })).toEqual({
      action: 'alreadyPresent',
      why: 'foundInAccount',
      clinikoId: '6',
    });
  });
});
