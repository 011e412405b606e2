import type { Logger } from '@aws-lambda-powertools/logger';

/**
 * The only way handlers log. An export is a clinic's health records, and CloudWatch is not the
 * place for them: a log line carries ids, counts and codes, nothing else. Fields are limited to
 * the names below; strings must look like an id or a code (no spaces, no `@`); numbers and
 * booleans pass; nested values are counts. Anything else is replaced by `[withheld]` and the line
 * says so, so a mistake shows up in the logs instead of the data.
 */
const ALLOWED = new Set([
  'runId',
  'clinicId',
  'batchKey',
  'entity',
  'sourceId',
  'outcome',
  'code',
  'phase',
  'status',
  'mode',
  'error',
  'ok',
  'done',
  'count',
  'failures',
  'failed',
  'enqueued',
  'finished',
  'deadLettered',
  'idleChecks',
  'duplicationRisk',
  'batches',
  'receiveCount',
  'resource',
  'read',
  'requests',
  'notInCliniko',
  'found',
  /** The run holding a clinic (issue 23's gate). */
  'heldBy',
]);

/** An id, a key of the bucket, a code or an error's name: what a log line may hold. */
const SAFE_STRING = /^[\w.:#/=-]{0,200}$/;

export type SafeValue = string | number | boolean | Readonly<Record<string, number>>;
export type SafeFields = Readonly<Record<string, SafeValue | undefined>>;

function clean(fields: SafeFields): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const withheld: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const ok =
      ALLOWED.has(key) &&
      (typeof value === 'number' ||
        typeof value === 'boolean' ||
        (typeof value === 'string' && SAFE_STRING.test(value)) ||
        (typeof value === 'object' &&
          value !== null &&
          Object.entries(value).every(([k, v]) => SAFE_STRING.test(k) && typeof v === 'number')));
    if (ok) out[key] = value;
    else withheld.push(key);
  }
  if (withheld.length) out.withheld = withheld.filter((k) => SAFE_STRING.test(k));
  return out;
}

/** What a message may be: fixed text chosen in the code, never built from data. */
export type LogMessage =
  | 'run started'
  | 'duplicate event: run already started'
  | 'run waits for a free slot'
  | 'run waits: clinic busy'
  | 'clinic gate taken by another run'
  | 'clinic hold had lapsed: taken again'
  | 'cached secret dropped: Cliniko refused the key'
  | 'preflight'
  | 'reconcile'
  | 'plan'
  | 'mapped batch'
  | 'phase check'
  | 'written'
  | 'write will be retried'
  | 'write message refused'
  | 'report';

export interface SafeLog {
  debug(message: LogMessage, fields: SafeFields): void;
  info(message: LogMessage, fields: SafeFields): void;
  warn(message: LogMessage, fields: SafeFields): void;
}

export function safeLog(logger: Logger): SafeLog {
  return {
    debug: (m, f) => logger.debug(m, clean(f)),
    info: (m, f) => logger.info(m, clean(f)),
    warn: (m, f) => logger.warn(m, clean(f)),
  };
}

/** An error as a log may show it: its name (a type), never its message (which may quote data). */
export const errorName = (err: unknown): string =>
  err instanceof Error && SAFE_STRING.test(err.name) ? err.name : 'Error';
