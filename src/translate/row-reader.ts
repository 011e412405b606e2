import type * as M from '../core/canonical.js';
import {
  type LocalDate,
  parseBoolean,
  parseDate,
  parseDateTime,
  parsePhoneCell,
  severalValues,
} from '../core/values.js';
import type { SourceRow } from '../source/csv.js';
import { looksLikeMojibake } from '../source/encoding.js';
import type { RowContext } from './row-context.js';
import { RowProblems } from './row-problems.js';

const EMAIL = /^[A-Z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Z0-9.-]+\.[A-Z]{2,63}$/i;

/**
 * Starts reading one row: reports how the CSV damaged it (field count, quotes), cleans every value
 * (garbled text reported and left out, NUL characters removed) and returns the typed readers the
 * entity builders use: each reports what it could not read (the codes docs/REPORT.md lists) on `p`.
 * `key` is the row's id column (its value is `sourceId`).
 */
export function readRow(ctx: RowContext, row: SourceRow, key: string) {
  const sourceId = row.values[key] ?? '';
  const p = new RowProblems(ctx, row, sourceId);
  reportRecordDamage(p, row);
  const undecodable = new Set<string>();
  const clean = valueCleaner(ctx, p, key, undecodable);
  const v: Record<string, string> = {};
  for (const [column, value] of Object.entries(row.values)) v[column] = clean(column, value);
  const extra = row.extra.map((e) => ({ header: e.header, value: clean(e.header, e.value) }));
  /** A required text column: empty makes the row invalid. */
  const required = (column: string): string => {
    const value = v[column] ?? '';
    if (value === '' && !undecodable.has(column))
      p.error(column, 'REQUIRED_MISSING', `${column} is required but empty`);
    return value;
  };
  const optional = (column: string): string | undefined => (v[column] ? v[column] : undefined);
  /**
   * A cell holding several values of its kind (`severalValues`) keeps the first, with a warning
   * naming the others; the value itself otherwise.
   */
  const firstOf = (column: string, isValid: (piece: string) => boolean): string => {
    const raw = v[column] ?? '';
    if (!raw || isValid(raw)) return raw;
    const several = severalValues(raw, isValid, { slash: false });
    if (!several) return raw;
    const [first = '', ...others] = several;
    p.warn(
      column,
      'SEVERAL_VALUES',
      `${column} "${raw}" holds ${several.length} values; ${first} is kept, ${others.join(', ')} left out`,
    );
    return first;
  };
  const date = (column: string, isRequired: boolean): LocalDate | undefined => {
    const raw = firstOf(column, (x) => parseDate(x, ctx.profile.dateOrder).ok);
    if (raw === '') {
      if (isRequired) p.error(column, 'REQUIRED_MISSING', `${column} is required but empty`);
      return undefined;
    }
    const parsed = parseDate(raw, ctx.profile.dateOrder);
    if (!parsed.ok) {
      if (isRequired) p.error(column, 'INVALID_DATE', `${column} ${parsed.reason}`);
      else p.warn(column, 'INVALID_DATE', `${column} ${parsed.reason}; left out`);
      return undefined;
    }
    ctx.evidence.observe(ctx.file, column, parsed.first);
    return parsed.value;
  };
  /** A date-time column: the time is `HH:mm` when the value has one that is not midnight. */
  const dateTime = (column: string, isRequired: boolean): { date: LocalDate; time?: string } | undefined => {
    const raw = firstOf(column, (x) => parseDateTime(x, ctx.profile.dateOrder).ok);
    if (raw === '') {
      if (isRequired) p.error(column, 'REQUIRED_MISSING', `${column} is required but empty`);
      return undefined;
    }
    const parsed = parseDateTime(raw, ctx.profile.dateOrder);
    if (!parsed.ok) {
      if (isRequired) p.error(column, 'INVALID_DATE', `${column} ${parsed.reason}`);
      else p.warn(column, 'INVALID_DATE', `${column} ${parsed.reason}; left out`);
      return undefined;
    }
    ctx.evidence.observe(ctx.file, column, parseDate(raw, ctx.profile.dateOrder).first);
    const { hour, minute } = parsed.value.time;
    return hour || minute
      ? {
          date: parsed.value.date,
          time: `${String(hour).padStart(2, '0')}:${String(minute).padStart(2, '0')}`,
        }
      : { date: parsed.value.date };
  };
  const bool = (column: string): boolean | undefined => {
    const parsed = parseBoolean(v[column] ?? '', ctx.profile.booleans);
    if (parsed.ok) return parsed.value;
    p.warn(column, 'INVALID_BOOLEAN', `${column} ${parsed.reason}; left out`);
    return undefined;
  };
  /**
   * An e-mail address. A cell holding several (`a@x.nz; b@y.nz`, `a@x.nz or b@y.nz`) or one with
   * words beside it (`Aroha <a@x.nz>`, `a@x.nz (work)`) keeps its first address, with a warning
   * naming the rest: a Cliniko patient or contact has one e-mail (Cliniko's API documentation on
   * patients).
   */
  const email = (column: string): string | undefined => {
    const value = optional(column);
    if (!value || EMAIL.test(value)) return value;
    const pieces = value
      .split(/\s*(?:[;,/|&]|\s(?:or|and)\s)\s*|\s+/i)
      .map((x) => x.replace(/^(?:mailto:)?[<("'[]*|[>)"'\].,;:]*$/gi, ''))
      .filter(Boolean);
    const found = pieces.filter((x) => EMAIL.test(x));
    const [first] = found;
    if (!first) {
      p.warn(
        column,
        'INVALID_EMAIL',
        `${column} "${value}" is not an e-mail address Cliniko accepts; left out`,
      );
      return undefined;
    }
    const others = pieces.filter((x) => x !== first);
    if (found.length > 1)
      p.warn(
        column,
        'SEVERAL_VALUES',
        `${column} "${value}" holds ${found.length} e-mail addresses; ${first} is kept, ${others.join(', ')} left out (Cliniko keeps one)`,
      );
    else
      p.warn(
        column,
        'EXTRA_TEXT',
        `${column} "${value}": ${first} is kept, "${others.join(' ')}" beside it left out`,
      );
    return first;
  };
  /**
   * A phone cell (`parsePhoneCell`): every number in it is stored as its own number of `type`
   * (Cliniko's `patient_phone_numbers` and contacts' `phone_numbers` are lists, Cliniko's API
   * documentation), never run together; an extension or words beside a number are left out with a
   * warning, as is a cell a spreadsheet damaged or that holds no number.
   */
  const phone = (column: string, type: M.Phone['type']): M.Phone[] => {
    const value = optional(column);
    if (!value) return [];
    const damage = spreadsheetDamage(value);
    if (damage) {
      p.warn(column, 'INVALID_PHONE', `${column} "${value}" ${damage}; left out`);
      return [];
    }
    const cell = parsePhoneCell(value);
    const [first] = cell.numbers;
    if (!first) {
      p.warn(column, 'INVALID_PHONE', `${column} "${value}" is not a phone number; left out`);
      return [];
    }
    if (cell.numbers.length > 1)
      p.warn(
        column,
        'SEVERAL_VALUES',
        `${column} "${value}" holds ${cell.numbers.length} phone numbers; each is stored as its own ${type} number (${cell.numbers.join(', ')})`,
      );
    if (cell.extensions.length)
      p.warn(
        column,
        'PHONE_EXTENSION',
        `${column} "${value}": extension ${cell.extensions.join(', ')} left out (a Cliniko phone number has no extension); ${cell.numbers.join(', ')} stored`,
      );
    if (cell.remarks.length)
      p.warn(
        column,
        'EXTRA_TEXT',
        `${column} "${value}": ${cell.remarks.map((r) => `"${r}"`).join(', ')} is not part of a phone number; left out`,
      );
    if (cell.unreadable.length)
      p.warn(
        column,
        'INVALID_PHONE',
        `${column} "${value}": ${cell.unreadable.map((r) => `"${r}"`).join(', ')} is not a phone number; left out (${cell.numbers.join(', ')} stored)`,
      );
    return cell.numbers.map((number) => ({ type, number }));
  };
  /** An optional value a spreadsheet may have turned into a number (post codes, numbers to dial). */
  const digitsOnly = (column: string): string | undefined => {
    const value = optional(column);
    const damage = value ? spreadsheetDamage(value) : undefined;
    if (!damage) return value;
    p.warn(column, 'SPREADSHEET_NUMBER', `${column} "${value}" ${damage}; left out`);
    return undefined;
  };
  const address = (): M.Address =>
    compact({
      line1: optional('Address1'),
      line2: optional('Address2'),
      suburb: optional('Suburb'),
      city: optional('City'),
      region: optional('Region'),
      postCode: digitsOnly('PostCode'),
      country: optional('Country'),
    });
  return {
    v,
    p,
    sourceId,
    extra,
    required,
    optional,
    digitsOnly,
    date,
    dateTime,
    bool,
    email,
    phone,
    address,
  };
}

/**
 * A record whose field count differs from the header's, cells the one text cleaning changed
 * (`cleanText`, in the reader), columns named twice whose copies differ, and fields holding an
 * undoubled quote.
 */
function reportRecordDamage(p: RowProblems, row: SourceRow): void {
  if (row.fieldCountMismatch !== undefined) {
    const header = row.headerFieldCount;
    const fields = `record has ${row.fieldCountMismatch} fields where the header has ${header ?? 'a different number'}`;
    // More fields than the header: some text sits past the columns it belongs to, and which field
    // moved cannot be told, so the row is held back (fewer fields only leave the last ones empty).
    // A broken quote already holds the row back with its own error (BROKEN_QUOTES, below).
    if (header !== undefined && row.fieldCountMismatch > header && !row.strayQuoteFields?.length)
      p.error(
        '',
        'FIELD_COUNT',
        `${fields}; held back so no value lands in the wrong field (check for an unquoted comma or a broken quote, fix the row and export again)`,
      );
    else p.warn('', 'FIELD_COUNT', `${fields}; check for a broken quote`);
  }
  for (const c of row.cleanedFields ?? []) {
    // Removed characters change the stored text (an address that looked valid was not); spaces
    // made plain do not, but the cell is still named.
    if (c.removed.length)
      p.warn(
        c.field,
        'INVISIBLE_CHARACTER',
        `${c.field} held characters nobody sees (${c.removed.join(', ')}); removed${c.replaced.length ? `, and ${c.replaced.join(', ')} made a plain space or line break` : ''}`,
      );
    else
      p.add(
        'info',
        c.field,
        'SPACE_NORMALISED',
        `${c.field} held ${c.replaced.join(', ')}; made a plain space or line break`,
      );
  }
  for (const c of row.columnConflicts ?? []) {
    p.warn(
      c.field,
      'DUPLICATE_COLUMN_CONFLICT',
      `${c.field} is named more than once in the header and its copies differ in this row: "${c.kept}" is kept, ${c.others.map((o) => `"${o}"`).join(', ')} left out`,
    );
  }
  for (const field of row.strayQuoteFields ?? []) {
    if (row.fieldCountMismatch !== undefined)
      p.error(
        field,
        'BROKEN_QUOTES',
        `${field} holds a quote that is not doubled, and the row's fields no longer line up with the header; held back so no text lands in the wrong field (fix the quotes and export again)`,
      );
    else
      p.warn(
        field,
        'UNESCAPED_QUOTE',
        `${field} holds a quote that is not doubled; read as text, the row's fields line up with the header (check the value)`,
      );
  }
}

/**
 * Text that cannot reach Cliniko as the clinic typed it is reported, and never written garbled:
 * garbled text is left out (an error in a required or key column, else a warning; its column is
 * added to `undecodable`), NUL characters are removed.
 */
function valueCleaner(
  ctx: RowContext,
  p: RowProblems,
  key: string,
  undecodable: Set<string>,
): (column: string, value: string) => string {
  const spec = ctx.profile.tables.find((t) =>
    t.files.some((f) => f.toLowerCase() === ctx.file.toLowerCase()),
  );
  return (column, value) => {
    if (!value) return value;
    if (looksLikeMojibake(value)) {
      undecodable.add(column);
      const message = value.includes('\uFFFD')
        ? `${column} holds bytes that are neither UTF-8 nor Windows-1252`
        : `${column} looks garbled by a wrong character encoding upstream`;
      if (spec?.required.includes(column) || column === key)
        p.error(column, 'UNDECODABLE_TEXT', `${message}; the row is held back`);
      else p.warn(column, 'UNDECODABLE_TEXT', `${message}; left out`);
      return '';
    }
    if (value.includes('\u0000')) {
      // Cliniko keeps text in a database that refuses NUL characters; the rest of the text goes.
      p.warn(
        column,
        'UNSUPPORTED_CHARACTER',
        `${column} holds NUL characters, which Cliniko cannot store; removed`,
      );
      return value.replaceAll('\u0000', '');
    }
    return value;
  };
}

/**
 * How a spreadsheet damaged a number that was text (a phone number, a post code): scientific
 * notation loses digits, a trailing `.0` shows it was stored as a float (which also drops leading
 * zeros), so the value is not the one the clinic typed (docs/EXPORT-FORMAT.md, CSV conventions).
 */
export function spreadsheetDamage(value: string): string | undefined {
  const t = value.trim();
  if (/^[+-]?\d+(?:[.,]\d+)?[eE][+-]?\d+$/.test(t))
    return 'is in scientific notation (a spreadsheet rounded it; digits are lost)';
  if (/^\+?\d+[.,]0+$/.test(t))
    return 'ends in ".0" (a spreadsheet stored it as a number; a leading zero may be lost)';
  return undefined;
}

/** Today in UTC: the export's date when the manifest gives none. */
export function todayUtc(): LocalDate {
  const d = new Date();
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

/** Drops undefined properties so optional canonical fields are truly absent. */
export function compact<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, value]) => value !== undefined)) as T;
}
