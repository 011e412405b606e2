import { redactKeys } from './api-key.js';
import {
  ClinikoAmbiguousError,
  ClinikoAuthError,
  ClinikoBadRequestError,
  type ClinikoError,
  ClinikoNotFoundError,
  ClinikoPermissionError,
  ClinikoTransientError,
  ClinikoValidationError,
  type RequestInfo,
} from './errors.js';
import type { HttpResponse } from './transport.js';

export interface ClassifyOptions {
  /** Repeating the request cannot create a second record (everything but a create). */
  readonly idempotent: boolean;
  /** A 502/504 answering a create may come from a gateway after Cliniko saved the record. */
  readonly gatewayErrorsAreAmbiguous: boolean;
  /** Strings redacted from the body before it reaches an error message (the API key). */
  readonly secrets: readonly string[];
}

/**
 * Turns a non-2xx, non-429 answer into the error that decides what the caller does next (Cliniko's
 * API documentation on errors): 400 bad request, 401 auth, 403 permission, 404 not found, 422
 * validation with its field errors, 5xx transient (or ambiguous: a gateway error answering a
 * create).
 */
export function classifyResponse(
  res: HttpResponse,
  info: RequestInfo,
  options: ClassifyOptions,
): ClinikoError {
  const text = redactKeys(res.body.toString('utf8').slice(0, 2000), options.secrets);
  switch (res.status) {
    case 400:
      return new ClinikoBadRequestError(info, messageOf(text));
    case 401:
      return new ClinikoAuthError(info);
    case 403:
      return new ClinikoPermissionError(info, messageOf(text));
    case 404:
      return new ClinikoNotFoundError(info);
    case 422:
      return new ClinikoValidationError(info, fieldErrorsOf(text));
  }
  if (res.status >= 500) {
    if (
      !options.idempotent &&
      options.gatewayErrorsAreAmbiguous &&
      (res.status === 502 || res.status === 504)
    ) {
      return new ClinikoAmbiguousError(info, `gateway answered ${res.status}`, res.status);
    }
    return new ClinikoTransientError(info, `server answered ${res.status}`, res.status);
  }
  return new ClinikoBadRequestError(info, `unexpected status ${res.status}: ${messageOf(text)}`);
}

function messageOf(text: string): string {
  try {
    const json = JSON.parse(text) as { message?: unknown; error?: unknown; errors?: unknown };
    const msg = json.message ?? json.error;
    if (typeof msg === 'string') return msg;
  } catch {
    // plain-text bodies such as "HTTP Basic: Access denied." are shown as they are
  }
  return text.trim().slice(0, 300);
}

function fieldErrorsOf(text: string): Record<string, string> {
  try {
    const json = JSON.parse(text) as { errors?: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [field, value] of Object.entries(json.errors ?? {})) {
      out[field] = Array.isArray(value) ? value.map(String).join(', ') : String(value);
    }
    return out;
  } catch {
    return { base: text.trim().slice(0, 300) };
  }
}
