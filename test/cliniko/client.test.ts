import { describe, expect, it } from '@jest/globals';
import { keyLabel } from '../../src/cliniko/api-key.js';
import { ClinikoClient } from '../../src/cliniko/client.js';
import {
  ClinikoAmbiguousError,
  ClinikoAuthError,
  ClinikoPermissionError,
  ClinikoRateLimitedError,
  ClinikoTransientError,
  ClinikoValidationError,
} from '../../src/cliniko/errors.js';
import { InMemoryBucketStore, RateLimiter } from '../../src/cliniko/rate-limiter.js';
import { type HttpRequest, type HttpResponse, TransportError } from '../../src/cliniko/transport.js';

const KEY = 'VerySecretKeyBody0123456789-au1';

type Step = HttpResponse | TransportError;
const json = (status: number, body: unknown, headers: Record<string, string> = {}): HttpResponse => ({
  status,
  headers,
  body: Buffer.from(body === undefined ? '' : JSON.stringify(body)),
});
const patient = (id: string, ref = 'C1') => ({ id, first_name: 'A', last_name: 'B', old_reference_id: ref });

/** A client whose transport plays back scripted answers and records what was sent. */
function scripted(steps: Step[], extra: Partial<ConstructorParameters<typeof ClinikoClient>[0]> = {}) {
  const sent: HttpRequest[] = [];
  const slept: number[] = [];
  let now = 1_700_000_000_000;
  const client = new ClinikoClient({
    apiKey: KEY,
    transport: async (req) => {
      sent.push(req);
      const step = steps.shift();
      if (!step) throw new Error('no more scripted answers');
      if (step instanceof TransportError) throw step;
      return step;
    },
    sleep: async (ms) => {
      slept.push(ms);
      now += ms;
    },
    now: () => now,
    random: () => 0.5,
    ...extra,
  });
  return { client, sent, slept };
}

describe('ClinikoClient requests', () => {
  it('sends Basic auth with the key as user, Accept, User-Agent and the shard host', async () => {
    const { client, sent } = scripted([json(200, { id: '1', first_name: 'A', last_name: 'B' })]);
    await client.getCurrentUser();
    const req = sent[0];
    expect(req?.url.toString()).toBe('https://api.au1.cliniko.com/v1/user');
    expect(req?.headers.Authorization).toBe(`Basic ${Buffer.from(`${KEY}:`).toString('base64')}`);
    expect(req?.headers.Accept).toBe('application/json');
    expect(req?.headers['User-Agent']).toMatch(/\(.+@.+\)/);
  });

  it('refuses a User-Agent without a contact address', () => {
    expect(() => new ClinikoClient({ apiKey: KEY, userAgent: 'just a name' })).toThrow(
      /User-Agent|USER_AGENT/,
    );
  });

  it('keeps ids as strings, even past 2^53', async () => {
    const { client } = scripted([json(201, patient('9223372036854775807'))]);
    const created = await client.createPatient({ first_name: 'A', last_name: 'B' });
    expect(created.id).toBe('9223372036854775807');
  });

  it('follows links.next until there is none', async () => {
    const { client, sent } = scripted([
      json(200, {
        patients: [patient('1')],
        total_entries: 2,
        links: { self: 'x', next: 'https://api.au1.cliniko.com/v1/patients?page=2&per_page=1' },
      }),
      json(200, { patients: [patient('2')], total_entries: 2, links: { self: 'x' } }),
    ]);
    const all = await client.listPatients();
    expect(all.map((p) => p.id)).toEqual(['1', '2']);
    expect(sent[1]?.url.searchParams.get('page')).toBe('2');
  });

  it('encodes q[] filters', async () => {
    const { client, sent } = scripted([json(200, { patients: [], total_entries: 0, links: {} })]);
    await client.findPatientByReference('C 1&2');
    const q = sent[0]?.url.searchParams.getAll('q[]');
    expect(q).toEqual(['old_reference_id:=C 1&2', 'archived_at:*']);
  });
});

describe('ClinikoClient errors', () => {
  it('turns 422 into a validation error with field messages and never retries it', async () => {
    const { client, sent } = scripted([
      json(422, { message: 'Validation Failed', errors: { first_name: "can't be blank" } }),
    ]);
    const err = await client.createPatient({ last_name: 'B' }).catch((e) => e);
    expect(err).toBeInstanceOf(ClinikoValidationError);
    expect(err.fieldErrors).toEqual({ first_name: "can't be blank" });
    expect(sent).toHaveLength(1);
  });

  it('does not retry 401 or 403 and explains them', async () => {
    const a = scripted([json(401, 'HTTP Basic: Access denied.')]);
    const auth = await a.client.getCurrentUser().catch((e) => e);
    expect(auth).toBeInstanceOf(ClinikoAuthError);
    expect(auth.message).toContain(`did not accept the API key ${keyLabel(KEY)}`);
    expect(a.sent).toHaveLength(1);
    const b = scripted([json(403, { message: 'nope' })]);
    expect(await b.client.listBusinesses().catch((e) => e)).toBeInstanceOf(ClinikoPermissionError);
    expect(b.sent).toHaveLength(1);
  });

  it('waits until X-RateLimit-Reset after a 429, then retries', async () => {
    const resetSeconds = Math.ceil((1_700_000_000_000 + 7_000) / 1000);
    const { client, slept } = scripted([
      json(429, {}, { 'x-ratelimit-reset': String(resetSeconds) }),
      json(200, { id: '1', first_name: 'A', last_name: 'B' }),
    ]);
    await client.getCurrentUser();
    expect(slept).toEqual([resetSeconds * 1000 - 1_700_000_000_000]);
  });

  it('falls back to Retry-After, then to backoff, when no reset header comes', async () => {
    const a = scripted([
      json(429, {}, { 'retry-after': '3' }),
      json(200, { id: '1', first_name: 'A', last_name: 'B' }),
    ]);
    await a.client.getCurrentUser();
    expect(a.slept).toEqual([3000]);
    const b = scripted([json(429, {}), json(200, { id: '1', first_name: 'A', last_name: 'B' })]);
    await b.client.getCurrentUser();
    expect(b.slept[0]).toBeGreaterThan(0);
  });

  it('tells the shared limiter to pause everyone after a 429', async () => {
    const store = new InMemoryBucketStore();
    let paused = 0;
    const limiter = new RateLimiter(store, 'u', {});
    limiter.pauseUntil = async (until: number) => {
      paused = until;
    };
    const reset = Math.ceil(Date.now() / 1000) + 2;
    const { client } = scripted(
      [
        json(429, {}, { 'x-ratelimit-reset': String(reset) }),
        json(200, { id: '1', first_name: 'A', last_name: 'B' }),
      ],
      { limiter },
    );
    await client.getCurrentUser();
    expect(paused).toBe(reset * 1000);
  });

  it('gives up after too many 429s with a rate-limited error', async () => {
    const steps = Array.from({ length: 4 }, () => json(429, {}, { 'x-ratelimit-reset': '1' }));
    const { client } = scripted(steps, { retry: { maxRateLimitWaits: 3 } });
    expect(await client.getCurrentUser().catch((e) => e)).toBeInstanceOf(ClinikoRateLimitedError);
  });

  it('retries 5xx with growing jittered backoff, then gives up', async () => {
    const { client, slept, sent } = scripted([json(500, {}), json(503, {}), json(500, {})], {
      retry: { maxAttempts: 3, baseDelayMs: 100 },
    });
    const err = await client.listBusinesses().catch((e) => e);
    expect(err).toBeInstanceOf(ClinikoTransientError);
    expect(sent).toHaveLength(3);
    expect(slept).toEqual([75, 150]);
  });

  it('retries a reset that happened before the body was sent, even for a create', async () => {
    const { client, sent } = scripted([
      new TransportError('connect ECONNREFUSED', false, 'ECONNREFUSED'),
      json(201, patient('7')),
    ]);
    const created = await client.createPatient({ first_name: 'A', last_name: 'B' });
    expect(created.id).toBe('7');
    expect(sent).toHaveLength(2);
  });

  it('calls a create whose connection dropped after sending ambiguous, and retries a read', async () => {
    const a = scripted([new TransportError('socket hang up', true, 'ECONNRESET')]);
    expect(await a.client.createPatient({ first_name: 'A', last_name: 'B' }).catch((e) => e)).toBeInstanceOf(
      ClinikoAmbiguousError,
    );
    const b = scripted([
      new TransportError('socket hang up', true, 'ECONNRESET'),
      json(200, { id: '1', first_name: 'A', last_name: 'B' }),
    ]);
    expect((await b.client.getCurrentUser()).id).toBe('1');
  });

  it('treats a gateway error on a create as ambiguous unless configured otherwise', async () => {
    const a = scripted([json(504, {})]);
    expect(await a.client.createPatient({ first_name: 'A', last_name: 'B' }).catch((e) => e)).toBeInstanceOf(
      ClinikoAmbiguousError,
    );
    const b = scripted([json(504, {}), json(201, patient('3'))], { gatewayErrorsAreAmbiguous: false });
    expect((await b.client.createPatient({ first_name: 'A', last_name: 'B' })).id).toBe('3');
  });

  it('re-finds an ambiguous create instead of creating it twice', async () => {
    const { client, sent } = scripted([
      new TransportError('socket hang up', true, 'ECONNRESET'),
      json(200, { patients: [patient('42', 'C9')], total_entries: 1, links: {} }),
    ]);
    const result = await client.createPatientOnce({
      first_name: 'A',
      last_name: 'B',
      old_reference_id: 'C9',
    });
    expect(result).toMatchObject({ recovered: true, record: { id: '42' } });
    expect(sent.map((r) => r.method)).toEqual(['POST', 'GET']);
  });

  it('repeats an ambiguous create that was not applied', async () => {
    const { client, sent } = scripted([
      new TransportError('socket hang up', true, 'ECONNRESET'),
      json(200, { patients: [], total_entries: 0, links: {} }),
      json(201, patient('43', 'C9')),
    ]);
    const result = await client.createPatientOnce({
      first_name: 'A',
      last_name: 'B',
      old_reference_id: 'C9',
    });
    expect(result).toMatchObject({ recovered: false, record: { id: '43' } });
    expect(sent.map((r) => r.method)).toEqual(['POST', 'GET', 'POST']);
  });

  it('counts every request by status', async () => {
    const { client } = scripted([
      json(500, {}),
      new TransportError('x', false, 'ECONNRESET'),
      json(200, { id: '1', first_name: 'A', last_name: 'B' }),
    ]);
    await client.getCurrentUser();
    expect(client.counter.byStatus()).toEqual({ '200': 1, '500': 1, network: 1 });
    expect(client.counter.total).toBe(3);
  });
});
