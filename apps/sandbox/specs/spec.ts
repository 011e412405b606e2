import type { FilterKind } from '../filters.js';
import type { Rec, Table } from '../state.js';
import type { Rules } from '../validation.js';

/**
 * Each resource the sandbox serves: its writable fields with Cliniko's limits, the fields it can
 * be filtered on (from the OpenAPI description), which `*_id` fields come back as link objects,
 * and any extra links a response carries.
 */
export interface ResourceSpec {
  readonly table: Table;
  readonly path: string;
  readonly collection: string;
  readonly create?: boolean;
  readonly update?: boolean;
  readonly archive?: boolean;
  readonly unarchive?: boolean;
  readonly rules: Rules;
  readonly filters: Readonly<Record<string, FilterKind>>;
  /** Response link objects built from stored `*_id` fields: `patient_id` → `patient`. */
  readonly relations: Readonly<Record<string, { readonly field: string; readonly path: string }>>;
  /** Stored fields that never appear in a response. */
  readonly hidden?: readonly string[];
  /** Hidden from lists unless a filter names them (`archived_at:*`). */
  readonly hideWhenSet: readonly string[];
  readonly extraLinks?: (rec: Rec, base: string) => Record<string, unknown>;
}

/** Field rules and filter sets the specs share. */
export const s255 = { type: 'string', maxLength: 255 } as const;
export const str = { type: 'string' } as const;
export const bool = { type: 'boolean' } as const;
export const id = { type: 'id' } as const;

export const stamps: Record<string, FilterKind> = {
  created_at: 'datetime',
  updated_at: 'datetime',
  id: 'int64',
};
export const archivable: Record<string, FilterKind> = { ...stamps, archived_at: 'datetime' };
export const linkTo = (base: string, path: string) => ({ links: { self: `${base}${path}` } });
