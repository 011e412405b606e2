/**
 * Field rules for request bodies, answered the way Cliniko does:
 * 422 `{"message":"Validation Failed","errors":{"field":"message"}}`.
 */
export type FieldType =
  | 'string'
  | 'id'
  | 'integer'
  | 'boolean'
  | 'date'
  | 'datetime'
  | 'decimal'
  | 'object'
  | 'array'
  | 'id-array'
  /** Checked by the resource itself (treatment-note content: an object or a JSON string). */
  | 'any';

export interface FieldRule {
  readonly type: FieldType;
  readonly required?: boolean;
  readonly maxLength?: number;
  readonly minLength?: number;
  readonly enum?: readonly (string | number)[];
  readonly pattern?: RegExp;
  readonly min?: number;
  readonly max?: number;
  readonly nullable?: boolean;
}

export type Rules = Readonly<Record<string, FieldRule>>;

export const EMAIL = /^[A-Z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Z0-9.-]+\.[A-Z]{2,63}$/i;
export const COLOR = /^#([A-Fa-f0-9]{6}|[A-Fa-f0-9]{3})$/;

function isBlank(v: unknown): boolean {
  return v === undefined || v === null || (typeof v === 'string' && v.trim() === '');
}

/** Checks and normalises a body: ids become strings, date-times UTC `…Z`. */
export function validate(
  body: Record<string, unknown>,
  rules: Rules,
  mode: 'create' | 'update',
): { values: Record<string, unknown>; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  for (const [field, rule] of Object.entries(rules)) {
    const present = Object.hasOwn(body, field);
    const v = body[field];
    if (isBlank(v)) {
      if (rule.required && (mode === 'create' || present)) errors[field] = "can't be blank";
      else if (present) values[field] = rule.type === 'string' && v === '' ? '' : null;
      continue;
    }
    const error = checkValue(v, rule);
    if (error) {
      errors[field] = error;
      continue;
    }
    values[field] = normalise(v, rule);
  }
  return { values, errors };
}

function checkValue(v: unknown, rule: FieldRule): string | undefined {
  switch (rule.type) {
    case 'string':
      if (typeof v !== 'string') return 'must be a string';
      if (rule.maxLength !== undefined && [...v].length > rule.maxLength)
        return `is too long (maximum is ${rule.maxLength} characters)`;
      if (rule.minLength !== undefined && [...v].length < rule.minLength)
        return `is too short (minimum is ${rule.minLength} characters)`;
      if (rule.pattern && !rule.pattern.test(v)) return 'is invalid';
      if (rule.enum && !rule.enum.includes(v)) return 'is not included in the list';
      return undefined;
    case 'id':
      return (typeof v === 'string' && /^\d+$/.test(v)) ||
        (typeof v === 'number' && Number.isSafeInteger(v) && v > 0)
        ? undefined
        : 'is invalid';
    case 'integer': {
      const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
      if (typeof n !== 'number' || !Number.isInteger(n)) return 'is not a number';
      if (rule.enum && !rule.enum.includes(n)) return 'is not included in the list';
      if (rule.min !== undefined && n < rule.min) return `must be greater than or equal to ${rule.min}`;
      if (rule.max !== undefined && n > rule.max) return `must be less than or equal to ${rule.max}`;
      return undefined;
    }
    case 'decimal':
      return (typeof v === 'number' && Number.isFinite(v)) ||
        (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v))
        ? undefined
        : 'is not a number';
    case 'boolean':
      return typeof v === 'boolean' ? undefined : 'must be true or false';
    case 'date':
      return typeof v === 'string' &&
        /^\d{4}-\d{2}-\d{2}$/.test(v) &&
        !Number.isNaN(Date.parse(`${v}T00:00:00Z`)) &&
        new Date(`${v}T00:00:00Z`).toISOString().startsWith(v)
        ? undefined
        : 'is not a valid date';
    case 'datetime':
      return typeof v === 'string' &&
        /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(v) &&
        !Number.isNaN(Date.parse(v))
        ? undefined
        : 'is not a valid date-time';
    case 'object':
      return typeof v === 'object' && !Array.isArray(v) ? undefined : 'is invalid';
    case 'array':
      return Array.isArray(v) ? undefined : 'is invalid';
    case 'any':
      return undefined;
    case 'id-array':
      return Array.isArray(v) && v.every((x) => checkValue(x, { type: 'id' }) === undefined)
        ? undefined
        : 'is invalid';
  }
}

export function utcSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

function normalise(v: unknown, rule: FieldRule): unknown {
  switch (rule.type) {
    case 'id':
      return String(v);
    case 'id-array':
      return (v as unknown[]).map(String);
    case 'integer':
      return Number(v);
    case 'decimal':
      return String(v);
    case 'datetime':
      return utcSeconds(new Date(v as string));
    default:
      return v;
  }
}
