import { startSandbox } from '../apps/sandbox/server.js';
import { ClinikoClient } from '../src/cliniko/client.js';
import { InMemoryBucketStore, RateLimiter } from '../src/cliniko/rate-limiter.js';

/**
 * Drives the token bucket against the sandbox's fixed-window limit for several windows and
 * reports achieved rate / limit (target ≥ 0.95) and the share of 429 answers (target ≤ 1%).
 * The window is shortened with the ratio kept: 50 requests per 15 s is 200 a minute.
 */
export async function rateLimitBench(): Promise<Record<string, number>> {
  const limit = Number(process.env.BENCH_RATE_LIMIT ?? 50);
  const windowMs = Number(process.env.BENCH_RATE_WINDOW_MS ?? 15_000);
  const seconds = Number(process.env.BENCH_SECONDS ?? 45);
  const users = [
    {
      first_name: 'Bench',
      last_name: 'One',
      is_practitioner: true,
      api_key: 'BenchUserOneKey0000000001-au1',
    },
    {
      first_name: 'Bench',
      last_name: 'Two',
      is_practitioner: true,
      api_key: 'BenchUserTwoKey0000000002-au1',
    },
  ];
  const sandbox = await startSandbox({
    rateLimit: limit,
    rateWindowMs: windowMs,
    seed: { users, businesses: [{ business_name: 'Bench' }] },
  });
  const store = new InMemoryBucketStore();
  const results: Record<string, number> = {};
  try {
    const perUser = await Promise.all(
      users.map(async (user, u) => {
        const client = new ClinikoClient({
          apiKey: String(user.api_key),
          baseUrl: sandbox.baseUrl,
          limiter: new RateLimiter(store, `user-${u}`, { limit, windowMs }),
        });
        const started = Date.now();
        const deadline = started + seconds * 1000;
        let ok = 0;
        let n = 0;
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            while (Date.now() < deadline) {
              await client.createPatient({ first_name: 'Bench', last_name: `P${u}-${n++}` });
              ok++;
            }
          }),
        );
        const elapsed = Date.now() - started;
        const byStatus = client.counter.byStatus();
        const total = client.counter.total;
        return {
          achieved: ok / ((elapsed / windowMs) * limit),
          share429: (byStatus['429'] ?? 0) / total,
          total,
        };
      }),
    );
    perUser.forEach((r, i) => {
      console.log(
        `user ${i + 1}: ${r.total} requests, achieved rate / limit ${r.achieved.toFixed(3)} (target ≥ 0.95), 429 share ${(r.share429 * 100).toFixed(2)}% (target ≤ 1%)`,
      );
    });
    results.achievedRateOverLimit = Math.min(...perUser.map((r) => r.achieved));
    results.share429 = Math.max(...perUser.map((r) => r.share429));
  } finally {
    await sandbox.close();
  }
  return results;
}
