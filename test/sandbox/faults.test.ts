import { afterEach, describe, expect, it } from '@jest/globals';
import { parseFaults } from '../../apps/sandbox/faults.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import type { RetryEvent } from '../../src/cliniko/client.js';
import { InMemoryBucketStore, RateLimiter } from '../../src/cliniko/rate-limiter.js';
import { clientFor, TEST_KEY, withSandbox } from '../support/sandbox.js';

let sandbox: Sandbox | undefined;
afterEach(async () => {
  await sandbox?.close();
  sandbox = undefined;
});

describe('fault specs', () => {
  it('parses the documented form and refuses nonsense', () => {
    expect(parseFaults('5xx=0.05,429=0.02,drop-after-commit=0.01,latency=50ms')).toEqual({
      serverError: 0.05,
      rateLimited: 0.02,
      dropAfterCommit: 0.01,
      latencyMs: 50,
    });
    expect(() => parseFaults('5xx=2')).toThrow(/probability/);
    expect(() => parseFaults('gremlins=0.1')).toThrow(/unknown fault/);
  });
});

describe('rate limit', () => {
  it('answers 429 with X-RateLimit-Reset past the limit, and the client recovers', async () => {
    sandbox = await withSandbox({ rateLimit: 5, rateWindowMs: 1000 });
    const events: RetryEvent[] = [];
    const client = clientFor(sandbox, { onRetry: (e) => events.push(e) });
    for (let i = 0; i < 12; i++) await client.getCurrentUser();
    const byStatus = client.counter.byStatus();
    expect(byStatus['200']).toBe(12);
    expect(byStatus['429']).toBeGreaterThan(0);
    expect(events.every((e) => e.reason === 'rate-limited')).toBe(true);
  });

  it('sends X-RateLimit-Reset as UNIX seconds at the end of the window', async () => {
    sandbox = await withSandbox({ rateLimit: 1, rateWindowMs: 60_000 });
    const headers = {
      Authorization: `Basic ${Buffer.from(`${TEST_KEY}:`).toString('base64')}`,
      'User-Agent': 't (t@example.com)',
    };
    await fetch(`${sandbox.baseUrl}/user`, { headers });
    const res = await fetch(`${sandbox.baseUrl}/user`, { headers });
    expect(res.status).toBe(429);
    const reset = Number(res.headers.get('x-ratelimit-reset'));
    const windowEnd = Math.ceil((Math.floor(Date.now() / 60_000) + 1) * 60);
    expect(reset).toBe(windowEnd);
    expect(res.headers.get('retry-after')).toBeNull();
  });

  it('lets every request through at --rate-limit 0 ("no limit", as its help says)', async () => {
    sandbox = await withSandbox({ rateLimit: 0, rateWindowMs: 60_000 });
    const headers = {
      Authorization: `Basic ${Buffer.from(`${TEST_KEY}:`).toString('base64')}`,
      'User-Agent': 't (t@example.com)',
    };
    const statuses: number[] = [];
    for (let i = 0; i < 250; i++) statuses.push((await fetch(`${sandbox.baseUrl}/user`, { headers })).status);
    expect(statuses.filter((s) => s !== 200)).toEqual([]);
  });

  it('meets the limit without 429s when the client shares a token bucket', async () => {
    sandbox = await withSandbox({ rateLimit: 20, rateWindowMs: 1000 });
    const limiter = new RateLimiter(new InMemoryBucketStore(), 'ada', { limit: 20, windowMs: 1000 });
    const client = clientFor(sandbox, { limiter });
    await Promise.all(Array.from({ length: 40 }, () => client.getCurrentUser()));
    expect(client.counter.byStatus()['429'] ?? 0).toBe(0);
    expect(client.counter.byStatus()['200']).toBe(40);
  });
});

describe('faults', () => {
  it('creates 500 patients exactly once through 5xx, 429 and dropped connections', async () => {
    sandbox = await withSandbox({
      rateLimit: 100_000,
      faults: parseFaults('5xx=0.1,429=0.05,drop-after-commit=0.05'),
      injected429ResetMs: 5,
      faultSeed: 7,
    });
    const client = clientFor(sandbox, {
      retry: { baseDelayMs: 1, maxDelayMs: 5, maxAttempts: 10, maxRateLimitWaits: 50 },
    });
    let recovered = 0;
    const refs = Array.from({ length: 500 }, (_, i) => `C${i + 1}`);
    const queue = [...refs];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (let ref = queue.shift(); ref; ref = queue.shift()) {
          const result = await client.createPatientOnce({
            first_name: 'Fault',
            last_name: `Tolerant ${ref}`,
            old_reference_id: ref,
          });
          if (result.recovered) recovered++;
        }
      }),
    );
    sandbox.faults = parseFaults('');
    const all = await client.listPatients(['last_name:~Tolerant', 'archived_at:*']);
    expect(all).toHaveLength(500);
    expect(new Set(all.map((p) => p.old_reference_id)).size).toBe(500);
    expect(sandbox.state.count('patients')).toBe(500);
    // the faults really happened: some creates were saved but their answers lost
    expect(recovered).toBeGreaterThan(0);
    const byStatus = client.counter.byStatus();
    expect(byStatus['429']).toBeGreaterThan(0);
    expect(Object.keys(byStatus).some((s) => s.startsWith('5'))).toBe(true);
  });

  it('adds latency when asked', async () => {
    sandbox = await withSandbox({ faults: parseFaults('latency=120ms') });
    const client = clientFor(sandbox);
    const started = Date.now();
    await client.getCurrentUser();
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });
});
