import type { FaultSpec } from './faults.js';
import type { SandboxSeed } from './seed.js';

/** How a sandbox is started (`startSandbox`); every field has a default faithful to Cliniko. */
export interface SandboxOptions {
  readonly port?: number;
  readonly host?: string;
  /** The shard this sandbox stands for; keys with another suffix are refused (401). */
  readonly shard?: string;
  /** Requests per window per user (Cliniko: 200 a minute); 0 is no limit. */
  readonly rateLimit?: number;
  /** Window length; shorter windows keep the same ratio for quick benchmarks. */
  readonly rateWindowMs?: number;
  /** Also send `Retry-After` on 429 (unconfirmed for Cliniko, so off by default). */
  readonly retryAfterHeader?: boolean;
  readonly faults?: FaultSpec;
  /** Seed for the fault generator, so a faulty run can be repeated. */
  readonly faultSeed?: number;
  /** X-RateLimit-Reset of an injected 429, from now. */
  readonly injected429ResetMs?: number;
  readonly seed?: SandboxSeed;
  /** Load from and save to this file. */
  readonly stateFile?: string;
  /** Status for a request without a usable User-Agent (unconfirmed: 400 or 403). */
  readonly userAgentStatus?: 400 | 403;
  /** `per_page` over 100: clamp (default) or 400. */
  readonly perPageOverflow?: 'clamp' | 'error';
  /** Delay before an attachment is `processing_completed`. */
  readonly attachmentProcessingMs?: number;
  /** Largest file the presigned POST policy allows. */
  readonly maxAttachmentBytes?: number;
  readonly logger?: boolean;
  /** Sees every API request's method, path and status (benchmarks attribute requests to entities). */
  readonly observe?: (method: string, path: string, status: number, at: number) => void;
  /**
   * Requests that fail without being applied: with 503 (a record that keeps failing, for
   * dead-letter tests), or with the gateway status returned (502, 504: a create whose outcome the
   * client cannot know, for re-find tests).
   */
  readonly alwaysFail?: (method: string, path: string, body: unknown) => boolean | 502 | 503 | 504;
}
