/**
 * Errors that decide what a caller does next. `retryable` says whether repeating the very same
 * request may succeed; `ClinikoAmbiguousError` says the request may already have been applied,
 * so a create must be re-found before it is repeated.
 */
export interface RequestInfo {
  readonly method: string;
  /** Path without the query string: filters can hold patient names, which must not reach logs. */
  readonly path: string;
  readonly keyLabel: string;
}

export abstract class ClinikoError extends Error {
  abstract readonly retryable: boolean;
  readonly status: number | undefined;
  readonly request: RequestInfo;

  constructor(message: string, request: RequestInfo, status?: number, options?: ErrorOptions) {
    super(message, options);
    this.request = request;
    this.status = status;
  }
}

export class ClinikoValidationError extends ClinikoError {
  override name = 'ClinikoValidationError';
  readonly retryable = false;
  constructor(
    request: RequestInfo,
    readonly fieldErrors: Readonly<Record<string, string>>,
  ) {
    const fields = Object.entries(fieldErrors)
      .map(([field, msg]) => `${field} ${msg}`)
      .join('; ');
    super(
      `Cliniko rejected ${request.method} ${request.path}: ${fields || 'Validation Failed'}`,
      request,
      422,
    );
  }
}

export class ClinikoAuthError extends ClinikoError {
  override name = 'ClinikoAuthError';
  readonly retryable = false;
  constructor(request: RequestInfo) {
    super(
      `Cliniko did not accept the API key ${request.keyLabel} (401). Check that the key is current, was copied whole, and that its shard suffix matches the clinic's Cliniko account.`,
      request,
      401,
    );
  }
}

export class ClinikoPermissionError extends ClinikoError {
  override name = 'ClinikoPermissionError';
  readonly retryable = false;
  constructor(request: RequestInfo, detail: string) {
    super(
      `The Cliniko user who owns key ${request.keyLabel} may not ${request.method} ${request.path} (403${detail ? `: ${detail}` : ''}). Use a key of an administrator who is also a practitioner, and send a User-Agent of the form "App name (email)".`,
      request,
      403,
    );
  }
}

export class ClinikoNotFoundError extends ClinikoError {
  override name = 'ClinikoNotFoundError';
  readonly retryable = false;
  constructor(request: RequestInfo) {
    super(`Cliniko has no ${request.path} (404).`, request, 404);
  }
}

export class ClinikoBadRequestError extends ClinikoError {
  override name = 'ClinikoBadRequestError';
  readonly retryable = false;
  constructor(request: RequestInfo, detail: string) {
    super(`Cliniko refused ${request.method} ${request.path} (400): ${detail}`, request, 400);
  }
}

export class ClinikoRateLimitedError extends ClinikoError {
  override name = 'ClinikoRateLimitedError';
  readonly retryable = true;
  constructor(
    request: RequestInfo,
    readonly resetAt: number,
  ) {
    super(
      `Cliniko kept answering 429 for ${request.method} ${request.path}; the limit resets at ${new Date(resetAt).toISOString()}.`,
      request,
      429,
    );
  }
}

export class ClinikoTransientError extends ClinikoError {
  override name = 'ClinikoTransientError';
  readonly retryable = true;
  constructor(request: RequestInfo, detail: string, status?: number, options?: ErrorOptions) {
    super(`Cliniko ${request.method} ${request.path} failed: ${detail}`, request, status, options);
  }
}

export class ClinikoAmbiguousError extends ClinikoError {
  override name = 'ClinikoAmbiguousError';
  /** Repeating blindly could duplicate the record: re-find it first. */
  readonly retryable = false;
  constructor(request: RequestInfo, detail: string, status?: number, options?: ErrorOptions) {
    super(
      `Cliniko ${request.method} ${request.path} may or may not have been applied (${detail}); re-find the record before retrying.`,
      request,
      status,
      options,
    );
  }
}

/** Cliniko answered 2xx with a body that does not match what the contract promises. */
export class ClinikoResponseError extends ClinikoError {
  override name = 'ClinikoResponseError';
  readonly retryable = false;
  constructor(request: RequestInfo, detail: string, status: number) {
    super(
      `Cliniko's answer to ${request.method} ${request.path} was not as documented: ${detail}`,
      request,
      status,
    );
  }
}

/** The outcome class of an error, as the status table and the report record it. */
export type FailureKind =
  | 'validation'
  | 'auth'
  | 'permission'
  | 'not-found'
  | 'bad-request'
  | 'rate-limited'
  | 'transient'
  | 'ambiguous'
  | 'response'
  | 'unknown';

export function failureKind(error: unknown): FailureKind {
  if (error instanceof ClinikoValidationError) return 'validation';
  if (error instanceof ClinikoAuthError) return 'auth';
  if (error instanceof ClinikoPermissionError) return 'permission';
  if (error instanceof ClinikoNotFoundError) return 'not-found';
  if (error instanceof ClinikoBadRequestError) return 'bad-request';
  if (error instanceof ClinikoRateLimitedError) return 'rate-limited';
  if (error instanceof ClinikoTransientError) return 'transient';
  if (error instanceof ClinikoAmbiguousError) return 'ambiguous';
  if (error instanceof ClinikoResponseError) return 'response';
  return 'unknown';
}
