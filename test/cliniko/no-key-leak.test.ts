import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { parseFaults } from '../../apps/sandbox/faults.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { ClinikoClient } from '../../src/cliniko/client.js';
import { clientFor, TEST_KEY, withSandbox } from '../support/sandbox.js';

/** Every way a key could leak: the key, its body without the shard, and its Basic header. */
function leaks(text: string, key: string): string[] {
  const body = key.slice(0, key.lastIndexOf('-'));
  const basic = Buffer.from(`${key}:`).toString('base64');
  return [key, body, basic].filter((s) => text.includes(s));
}

let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await withSandbox({
    rateLimit: 3,
    rateWindowMs: 500,
    faults: parseFaults('5xx=0.2,drop-after-commit=0.2'),
    injected429ResetMs: 5,
  });
});
afterAll(() => sandbox.close());

describe('API keys stay secret', () => {
  it('appear in no error message, retry event or console line of a faulty run', async () => {
    const captured: string[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      jest
        .spyOn(console, m)
        .mockImplementation((...args: unknown[]) => void captured.push(args.map(String).join(' '))),
    );
    const client = clientFor(sandbox, {
      onRetry: (e) => {
        const line = JSON.stringify(e);
        captured.push(line);
        console.warn(line);
      },
      retry: { baseDelayMs: 1, maxDelayMs: 2, maxAttempts: 8 },
    });
    for (let i = 0; i < 10; i++) {
      try {
        await client.createPatientOnce({ first_name: 'K', last_name: `Leak${i}`, old_reference_id: `K${i}` });
      } catch (err) {
        captured.push(String(err), (err as Error).stack ?? '');
      }
    }
    for (const bad of ['WrongKeyBodyButLongEnough-au2', TEST_KEY.replace(/-au2$/, '-uk1')]) {
      const other = new ClinikoClient({ apiKey: bad, baseUrl: sandbox.baseUrl, retry: { maxAttempts: 1 } });
      const err = await other.getCurrentUser().catch((e: Error) => e);
      captured.push(String(err), JSON.stringify(err), (err as Error).stack ?? '');
      expect(leaks(captured.join('\n'), bad)).toEqual([]);
    }
    const malformed = (() => {
      try {
        return new ClinikoClient({ apiKey: 'SecretPartOfAKey-zzzz' });
      } catch (err) {
        return err as Error;
      }
    })();
    captured.push(String(malformed));
    expect(String(malformed)).not.toContain('SecretPartOfAKey');
    for (const s of spies) s.mockRestore();
    expect(captured.length).toBeGreaterThan(5);
    expect(leaks(captured.join('\n'), TEST_KEY)).toEqual([]);
  });
});
