import { describe, expect, it } from '@jest/globals';
import { emptyEntities } from '../../src/core/entities.js';
import {
  estimateLive,
  LEASE_REQUESTS,
  liveEstimateLine,
  PREFLIGHT_REQUESTS,
  REQUESTS_PER_ATTACHMENT,
} from '../../src/report/live-estimate.js';

const planned = (counts: Record<string, number>) => {
  const e = emptyEntities();
  for (const [k, n] of Object.entries(counts)) Object.assign(e[k as keyof typeof e], { planned: n });
  return e;
};

describe('the live run a dry run plans', () => {
  it('estimates requests within 10 % of a measured live run (generate --patients 60: 1,296 requests)', () => {
    const e = estimateLive(
      planned({
        patients: 58,
        contacts: 10,
        appointmentTypes: 5,
        appointments: 862,
        clinicalNotes: 115,
        letters: 4,
        fileUploads: 6,
      }),
      { clinicalNotes: 'pdf-per-patient' },
      1,
    );
    expect(Math.abs(e.requests - 1296) / 1296).toBeLessThan(0.1);
  });

  it('counts the reads the dry run made, which the live run makes again: a repeat is nearly all reads', () => {
    const nothing = planned({});
    const reads = 412;
    expect(estimateLive(nothing, { clinicalNotes: 'pdf-per-patient' }, 1, reads).requests).toBe(
      reads + LEASE_REQUESTS,
    );
    // a dry run whose reads were not counted assumes a fresh account's
    expect(estimateLive(nothing, { clinicalNotes: 'pdf-per-patient' }, 1).requests).toBe(
      PREFLIGHT_REQUESTS + LEASE_REQUESTS,
    );
  });

  it('says the duration at the configured keys and at 4', () => {
    // 11,200 requests in all, with the reads before writing and the lease
    const appointments = 11_200 - PREFLIGHT_REQUESTS - LEASE_REQUESTS;
    const e = estimateLive(planned({ appointments }), { clinicalNotes: 'pdf-per-patient' }, 1);
    expect(e.requests).toBe(11_200);
    expect(liveEstimateLine(e)).toBe(
      'A live run: ≈ 11,200 Cliniko requests, ≈ 58 min at 1 key, ≈ 15 min at 4 (200 requests a minute per key).',
    );
    const four = estimateLive(planned({ appointments }), { clinicalNotes: 'pdf-per-patient' }, 4);
    expect(liveEstimateLine(four)).toBe(
      'A live run: ≈ 11,200 Cliniko requests, ≈ 15 min at 4 keys (200 requests a minute per key).',
    );
  });

  it('counts one attachment per note with pdf-per-note and one request per note when native', () => {
    const p = planned({ patients: 10, clinicalNotes: 40 });
    const bundle = estimateLive(p, { clinicalNotes: 'pdf-per-patient' }, 1).requests;
    expect(estimateLive(p, { clinicalNotes: 'pdf-per-note' }, 1).requests - bundle).toBe(
      REQUESTS_PER_ATTACHMENT * 30,
    );
    expect(estimateLive(p, { clinicalNotes: 'native' }, 1).requests).toBe(
      bundle - REQUESTS_PER_ATTACHMENT * 10 + 40,
    );
  });
});
