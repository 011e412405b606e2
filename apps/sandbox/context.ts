import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SandboxOptions } from './options.js';
import type { ResourceSpec } from './resources.js';
import type { Rec, SandboxState } from './state.js';
import type { UploadStorage } from './storage.js';

/** What the guard (guard.ts) learnt about a request: whose key, and whether to drop its answer. */
export interface RequestContext {
  userId: string;
  drop: boolean;
}

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
}

/** What every route module (routes/*.ts) gets from the server assembling them (server.ts). */
export interface SandboxContext {
  readonly state: SandboxState;
  readonly options: SandboxOptions;
  readonly storage: UploadStorage;
  /** Runs `fn` after `ms` unless the sandbox closes first (attachment processing). */
  later(fn: () => void, ms: number): void;
  /** Marks the state changed: saved to `options.stateFile` shortly after. */
  changed(): void;
  /**
   * Answers a write that was saved, or (a `dropAfterCommit` fault) cuts the connection before any
   * answer, as a lost response after Cliniko committed would.
   */
  commit(req: FastifyRequest, reply: FastifyReply, status: number, body?: unknown): FastifyReply;
  /**
   * Answers a list: `q[]` filters, hidden archived/cancelled rows, sorting, paging (Cliniko's API
   * documentation on pagination, filtering and sorting).
   */
  list(req: FastifyRequest, reply: FastifyReply, spec: ResourceSpec, records: readonly Rec[]): unknown;
}

/**
 * Cliniko's 422 answer: `{message: 'Validation Failed', errors: {field: message}}` (Cliniko's API
 * documentation on errors).
 */
export function validationFailed(reply: FastifyReply, errors: Record<string, string>) {
  return reply.code(422).send({ message: 'Validation Failed', errors });
}

/** The base of the links the sandbox answers with: `http://{Host}/v1`. */
export function apiBase(req: FastifyRequest): string {
  return `http://${req.headers.host ?? '127.0.0.1'}/v1`;
}

/** The record, or a 404 thrown to the error handler. */
export function must(rec: Rec | undefined): Rec {
  if (!rec) throw Object.assign(new Error('Not found'), { statusCode: 404 });
  return rec;
}
