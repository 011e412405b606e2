/**
 * Cliniko's `q[]=field:<op>value` filters, with the operators the docs list per field kind.
 * An unknown field or an operator the kind does not have is a 400, as Cliniko answers.
 */
export type FilterKind = 'string' | 'int64' | 'integer' | 'date' | 'datetime' | 'boolean' | 'array';

const OPERATORS: Record<FilterKind, readonly string[]> = {
  // longest first, so `!=` is not read as `!` + `=value`
  string: ['!=', '!?', '~~', '=', '~', '?'],
  int64: ['>=', '<=', '!=', '!?', '=', '>', '<', '?'],
  integer: ['>=', '<=', '!=', '!?', '=', '>', '<', '?'],
  date: ['>=', '<=', '!?', '=', '>', '<', '?'],
  datetime: ['>=', '<=', '!?', '>', '<', '?', '*'],
  boolean: ['!=', '='],
  array: ['~'],
};

export class FilterError extends Error {
  override name = 'FilterError';
}

export interface Filter {
  readonly field: string;
  readonly op: string;
  readonly value: string;
  readonly test: (record: Record<string, unknown>) => boolean;
}

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DATE_WILDCARD = /^[\d*]{4}-[\d*]{2}-[\d*]{2}$/;
const UTC_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?Z$/;

function compare(op: string, a: number | string, b: number | string): boolean {
  switch (op) {
    case '=':
      return a === b;
    case '!=':
      return a !== b;
    case '>=':
      return a >= b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '<':
      return a < b;
    default:
      return false;
  }
}

function likePattern(value: string): RegExp {
  const escaped = value.replace(/[.+^${}()|[\]\\*?]/g, '\\$&').replace(/%/g, '.*');
  return new RegExp(`^${escaped}$`, 'is');
}

export function parseFilter(raw: string, filterable: Readonly<Record<string, FilterKind>>): Filter {
  const colon = raw.indexOf(':');
  if (colon <= 0)
    throw new FilterError(`Invalid filter ${JSON.stringify(raw)}: expected field:<operator>value`);
  const field = raw.slice(0, colon);
  const rest = raw.slice(colon + 1);
  const kind = filterable[field];
  if (!kind) throw new FilterError(`${field} is not filterable`);
  const op = OPERATORS[kind].find((candidate) => rest.startsWith(candidate));
  if (!op) throw new FilterError(`Invalid operator for ${field} (a ${kind} filter)`);
  const value = rest.slice(op.length);
  const base = { field, op, value };

  if (op === '?' || op === '!?' || op === '*') {
    if (value !== '') throw new FilterError(`Filter ${field}:${op} takes no value`);
    const wantNull = op === '!?';
    return {
      ...base,
      test: (r) => (op === '*' ? true : wantNull ? r[field] == null : r[field] != null),
    };
  }

  switch (kind) {
    case 'string': {
      if (op === '~' || op === '~~') {
        const pattern = op === '~' ? likePattern(`%${value.replace(/%/g, '\\%')}%`) : likePattern(value);
        return { ...base, test: (r) => typeof r[field] === 'string' && pattern.test(r[field] as string) };
      }
      return {
        ...base,
        test: (r) => (op === '=' ? r[field] === value : r[field] !== value),
      };
    }
    case 'int64':
    case 'integer': {
      const values = value.split(',');
      if (values.some((v) => !/^-?\d+$/.test(v)))
        throw new FilterError(`Filter value for ${field} must be a number`);
      if (op === '=') {
        const set = new Set(values.map((v) => BigInt(v)));
        return { ...base, test: (r) => r[field] != null && set.has(BigInt(String(r[field]))) };
      }
      if (values.length !== 1) throw new FilterError(`Filter value for ${field} must be a number`);
      const wanted = BigInt(values[0] as string);
      return {
        ...base,
        test: (r) => {
          if (r[field] == null) return false;
          const have = BigInt(String(r[field]));
          return compare(op, have === wanted ? 0 : have < wanted ? -1 : 1, 0);
        },
      };
    }
    case 'date': {
      if (op === '=' && DATE_WILDCARD.test(value) && value.includes('*')) {
        const pattern = new RegExp(`^${value.replace(/\*/g, '\\d')}$`);
        return { ...base, test: (r) => typeof r[field] === 'string' && pattern.test(r[field] as string) };
      }
      if (!DATE.test(value)) throw new FilterError(`Filter value for ${field} must be a date (YYYY-MM-DD)`);
      return { ...base, test: (r) => typeof r[field] === 'string' && compare(op, r[field] as string, value) };
    }
    case 'datetime': {
      if (!UTC_DATETIME.test(value))
        throw new FilterError(`Filter value for ${field} must be a UTC date-time`);
      const wanted = Date.parse(value);
      return {
        ...base,
        test: (r) => typeof r[field] === 'string' && compare(op, Date.parse(r[field] as string), wanted),
      };
    }
    case 'boolean': {
      if (value !== 'true' && value !== 'false')
        throw new FilterError(`Filter value for ${field} must be true or false`);
      const wanted = value === 'true';
      return { ...base, test: (r) => compare(op, String(r[field] === true), String(wanted)) };
    }
    case 'array':
      return {
        ...base,
        test: (r) => Array.isArray(r[field]) && (r[field] as unknown[]).map(String).includes(value),
      };
  }
}

export function queryFilters(query: Record<string, unknown>): string[] {
  const raw = [query['q[]'], query.q]
    .flat()
    .filter((v): v is string => typeof v === 'string' && v.length > 0);
  return raw;
}
