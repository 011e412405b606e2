import type { IncomingHttpHeaders } from 'node:http';
import type { z } from 'zod';
import { type ParsedApiKey, parseApiKey, redactKeys, resolveBaseUrl } from './api-key.js';
import { classifyResponse } from './classify.js';
import {
  ClinikoAmbiguousError,
  type ClinikoError,
  ClinikoRateLimitedError,
  ClinikoResponseError,
  ClinikoTransientError,
  type RequestInfo,
} from './errors.js';
import type { Limiter } from './rate-limiter.js';
import { RequestCounter } from './request-counter.js';
import * as S from './schemas.js';
import { type HttpResponse, nodeTransport, type Transport, TransportError } from './transport.js';

/** What the client sends as `User-Agent` when none is configured (Cliniko requires a contact address). */
export const DEFAULT_USER_AGENT = 'cliniko-migrate (cliniko-migrate@users.noreply.github.com)';
const USER_AGENT_PATTERN = /^\S.*\(\s*[^\s@()]+@[^\s@()]+\.[^\s@()]+\s*\)\s*$/;

export interface RetryPolicy {
  /** Attempts for transient failures (5xx, resets before the body left). */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** How many 429s one request may wait out before giving up. */
  readonly maxRateLimitWaits: number;
}

export interface ClinikoClientOptions {
  readonly apiKey: string;
  /** `Name (email)`: Cliniko blocks clients without a contact address. */
  readonly userAgent?: string;
  /** Overrides `https://api.{shard}.cliniko.com/v1`, e.g. for the sandbox. */
  readonly baseUrl?: string;
  readonly limiter?: Limiter;
  readonly counter?: RequestCounter;
  readonly timeoutMs?: number;
  readonly retry?: Partial<RetryPolicy>;
  /**
   * A 502 or 504 may come from a gateway after Cliniko saved the record. Unconfirmed, so by
   * default a create that gets one is treated as ambiguous and re-found before any retry.
   */
  readonly gatewayErrorsAreAmbiguous?: boolean;
  readonly transport?: Transport;
  readonly sleep?: (ms: number) => Promise<void>;
  readonly now?: () => number;
  readonly random?: () => number;
  /** Called before each retry with what happened; carries no record content. */
  readonly onRetry?: (event: RetryEvent) => void;
}

export interface RetryEvent {
  readonly method: string;
  readonly path: string;
  readonly reason: 'rate-limited' | 'transient';
  readonly status?: number;
  readonly waitMs: number;
  readonly attempt: number;
}

export type Query = Record<string, string | number | boolean | readonly string[] | undefined>;

interface CallOptions<S extends z.ZodType | undefined> {
  readonly query?: Query;
  readonly body?: unknown;
  readonly schema: S;
  /** Repeating the request cannot create a second record. Everything but a create is. */
  readonly idempotent?: boolean;
}

export interface CreateOnceResult<T> {
  readonly record: T;
  /** The create had been applied although its answer was lost; it was found again. */
  readonly recovered: boolean;
}

/**
 * A class that builds on the HTTP core: the resource modules (`resources/*.ts`) are mixins over it,
 * and TypeScript requires a mixin's base to take `any[]` constructor arguments.
 */
// biome-ignore lint/suspicious/noExplicitAny: the TypeScript mixin pattern requires `any[]` here
export type HttpBase = new (...args: any[]) => ClinikoHttp;

const sleepFor = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function encodeQuery(query: Query | undefined): string {
  if (!query) return '';
  const parts: string[] = [];
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined) continue;
    const values = Array.isArray(value) ? value : [value];
    for (const v of values) parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(String(v))}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

/**
 * Of the records matching a natural key, the one a lost create would have made: a live one before
 * an archived one (an archived record is an old copy, e.g. one a rollback archived, never the
 * answer to a create just sent), and the newest of those (lists come oldest first, Cliniko's API
 * documentation on sorting). An archived match is still returned when it is the only one, for
 * lookups that want it.
 */
export function refound<T extends { archived_at?: string | null }>(matches: readonly T[]): T | undefined {
  const live = matches.filter((m) => !m.archived_at);
  return (live.length ? live : matches).at(-1);
}

const isArchived = (record: unknown): boolean =>
  typeof record === 'object' &&
  record !== null &&
  'archived_at' in record &&
  typeof record.archived_at === 'string' &&
  record.archived_at !== '';

/** Builds `q[]` filters: `filters({old_reference_id: '=C1'})` → `['old_reference_id:=C1']`. */
export function filters(spec: Record<string, string | undefined>): string[] {
  return Object.entries(spec)
    .filter((entry): entry is [string, string] => entry[1] !== undefined)
    .map(([field, opValue]) => `${field}:${opValue}`);
}

/**
 * The HTTP core of the Cliniko client: every request goes through `call`, which handles auth, the
 * rate limiter, retries and error classification (Cliniko's API documentation on the protocol). The
 * resources (`resources/*.ts`) build on it; `ClinikoClient` (client.ts) assembles them. It imports
 * nothing from AWS and works against real Cliniko and the sandbox alike.
 */
export class ClinikoHttp {
  readonly key: ParsedApiKey;
  readonly baseUrl: string;
  readonly counter: RequestCounter;
  protected readonly userAgent: string;
  private readonly authorization: string;
  private readonly retry: RetryPolicy;
  protected readonly transport: Transport;
  protected readonly sleep: (ms: number) => Promise<void>;
  protected readonly now: () => number;
  private readonly random: () => number;
  protected readonly timeoutMs: number;

  /** @throws Error when the key is malformed or the user agent carries no contact address. */
  constructor(private readonly options: ClinikoClientOptions) {
    this.key = parseApiKey(options.apiKey);
    this.baseUrl = resolveBaseUrl(this.key, options.baseUrl);
    const ua = options.userAgent?.trim() || DEFAULT_USER_AGENT;
    if (!USER_AGENT_PATTERN.test(ua)) {
      throw new Error(`CLINIKO_USER_AGENT must look like "App name (contact@example.com)"; got "${ua}".`);
    }
    this.userAgent = ua;
    this.authorization = `Basic ${Buffer.from(`${this.key.key}:`).toString('base64')}`;
    this.counter = options.counter ?? new RequestCounter();
    this.retry = {
      maxAttempts: 5,
      baseDelayMs: 500,
      maxDelayMs: 30_000,
      maxRateLimitWaits: 20,
      ...options.retry,
    };
    this.transport = options.transport ?? nodeTransport;
    this.sleep = options.sleep ?? sleepFor;
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    this.timeoutMs = options.timeoutMs ?? 30_000;
  }

  /** Milliseconds until this key's rate limit lets a request go (0: now): how loaded its lane is. */
  waitForToken(): Promise<number> {
    return this.options.limiter?.peek?.() ?? Promise.resolve(0);
  }

  /**
   * Creates once: on an ambiguous failure the record is looked for before the create is repeated,
   * so a lost answer never turns into a duplicate.
   */
  async createOnce<T>(
    create: () => Promise<T>,
    refind: () => Promise<T | undefined>,
    maxAttempts = 4,
  ): Promise<CreateOnceResult<T>> {
    let last: unknown;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        return { record: await create(), recovered: false };
      } catch (err) {
        if (!(err instanceof ClinikoAmbiguousError)) throw err;
        last = err;
        const found = await refind();
        // An archived match is an older copy: the lost create was not applied, so it is repeated.
        if (found && !isArchived(found)) return { record: found, recovered: true };
      }
    }
    throw last;
  }

  /** Reads every page of a list by following `links.next`, 100 records a page. */
  async listAll<S extends z.ZodType>(
    path: string,
    collection: string,
    item: S,
    q?: readonly string[],
  ): Promise<z.infer<S>[]> {
    const out: z.infer<S>[] = [];
    for await (const page of this.pages(path, collection, item, q)) out.push(...page);
    return out;
  }

  /** Yields each page of a list (`collection` is the array's key in Cliniko's answer) as it is read. */
  async *pages<S extends z.ZodType>(
    path: string,
    collection: string,
    item: S,
    q?: readonly string[],
  ): AsyncGenerator<z.infer<S>[]> {
    const schema = S.listPage(collection, item);
    let next: string | undefined = `${this.baseUrl}${path}${encodeQuery({ per_page: 100, 'q[]': q })}`;
    while (next) {
      const page: { items: z.infer<S>[]; next: string | undefined } = await this.call('GET', next, {
        schema,
      });
      yield page.items;
      next = page.next;
    }
  }

  /**
   * Sends one request with rate limiting, retries and error classification. `pathOrUrl` is a path
   * under the base URL (with `options.query`) or a full URL (a `links.next`); the 2xx body is parsed
   * by `options.schema` (`undefined`: ignored).
   * @throws ClinikoError subclasses (errors.ts): validation, auth, permission, not found, rate limited,
   *   transient after the retries, ambiguous for a create whose answer was lost, response (bad body).
   */
  async call<Sch extends z.ZodType | undefined>(
    method: string,
    pathOrUrl: string,
    options: CallOptions<Sch>,
  ): Promise<Sch extends z.ZodType ? z.infer<Sch> : undefined> {
    const url = new URL(
      pathOrUrl.startsWith('http') ? pathOrUrl : `${this.baseUrl}${pathOrUrl}${encodeQuery(options.query)}`,
    );
    const info = this.info(method, url.pathname.replace(/^.*?\/v1(?=\/)/, ''));
    const idempotent = options.idempotent ?? method !== 'POST';
    const body = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8');
    let attempt = 0;
    let rateLimitWaits = 0;
    for (;;) {
      attempt++;
      await this.options.limiter?.acquire();
      let res: HttpResponse;
      try {
        res = await this.transport({
          method,
          url,
          headers: {
            Authorization: this.authorization,
            Accept: 'application/json',
            'User-Agent': this.userAgent,
            ...(body ? { 'Content-Type': 'application/json' } : {}),
          },
          ...(body ? { body } : {}),
          timeoutMs: this.timeoutMs,
        });
      } catch (err) {
        this.counter.record('network');
        const e = err instanceof TransportError ? err : new TransportError(String(err), true, 'UNKNOWN');
        if (e.bodySent && !idempotent) {
          throw new ClinikoAmbiguousError(info, `${e.code} after the request was sent`, undefined, {
            cause: e,
          });
        }
        const error = new ClinikoTransientError(
          info,
          `${e.code}: ${redactKeys(e.message, [this.key.key])}`,
          undefined,
          { cause: e },
        );
        await this.backoffOrThrow(error, attempt);
        continue;
      }
      this.counter.record(res.status);
      if (res.status !== 429) await this.options.limiter?.answered?.();
      if (res.status >= 200 && res.status < 300) {
        return this.parseSuccess(res, options.schema, info) as Sch extends z.ZodType
          ? z.infer<Sch>
          : undefined;
      }
      if (res.status === 429) {
        rateLimitWaits++;
        const resetAt = this.rateLimitResetAt(res.headers, rateLimitWaits);
        if (rateLimitWaits > this.retry.maxRateLimitWaits) throw new ClinikoRateLimitedError(info, resetAt);
        await this.options.limiter?.pauseUntil(resetAt);
        const waitMs = Math.max(0, resetAt - this.now());
        this.options.onRetry?.({
          method,
          path: info.path,
          reason: 'rate-limited',
          status: 429,
          waitMs,
          attempt,
        });
        attempt--; // waiting out the limit is not a failed attempt
        if (!this.options.limiter) await this.sleep(waitMs);
        continue;
      }
      const error = classifyResponse(res, info, {
        idempotent,
        gatewayErrorsAreAmbiguous: this.options.gatewayErrorsAreAmbiguous ?? true,
        secrets: [this.key.key],
      });
      if (!error.retryable) throw error;
      await this.backoffOrThrow(error, attempt);
    }
  }

  private async backoffOrThrow(error: ClinikoError, attempt: number): Promise<void> {
    if (attempt >= this.retry.maxAttempts) throw error;
    const cap = Math.min(this.retry.maxDelayMs, this.retry.baseDelayMs * 2 ** (attempt - 1));
    const waitMs = Math.round(cap / 2 + (this.random() * cap) / 2);
    this.options.onRetry?.({
      method: error.request.method,
      path: error.request.path,
      reason: 'transient',
      ...(error.status ? { status: error.status } : {}),
      waitMs,
      attempt,
    });
    await this.sleep(waitMs);
  }

  /** Repeats a step that is safe to repeat (presign and storage POST) after transient failures. */
  protected async withTransientRetry<T>(fn: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await fn();
      } catch (err) {
        if (!(err instanceof ClinikoTransientError)) throw err;
        await this.backoffOrThrow(err, attempt);
      }
    }
  }

  private rateLimitResetAt(headers: IncomingHttpHeaders, waits: number): number {
    const reset = Number(headerValue(headers, 'x-ratelimit-reset'));
    if (Number.isFinite(reset) && reset > 0) return reset * 1000;
    const retryAfter = headerValue(headers, 'retry-after');
    if (retryAfter) {
      const seconds = Number(retryAfter);
      if (Number.isFinite(seconds)) return this.now() + seconds * 1000;
      const date = Date.parse(retryAfter);
      if (Number.isFinite(date)) return date;
    }
    return this.now() + Math.min(60_000, 1000 * 2 ** Math.min(waits, 6));
  }

  private parseSuccess(res: HttpResponse, schema: z.ZodType | undefined, info: RequestInfo): unknown {
    if (!schema) return undefined;
    let json: unknown;
    try {
      json = JSON.parse(res.body.toString('utf8'));
    } catch {
      throw new ClinikoResponseError(info, 'body is not JSON', res.status);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new ClinikoResponseError(
        info,
        `${issue?.path.join('.') || 'body'}: ${issue?.message ?? 'invalid'}`,
        res.status,
      );
    }
    return parsed.data;
  }

  protected info(method: string, path: string): RequestInfo {
    return { method, path, keyLabel: this.key.label };
  }
}
