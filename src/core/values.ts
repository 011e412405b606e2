/**
 * Parsing of source values. Every parser returns either a value or the reason it could not, so
 * the caller can report the file, row, field and code.
 */
export type DateOrder = 'dmy' | 'mdy' | 'ymd';

export interface LocalDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

export interface LocalTime {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

function validCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || year < 1800 || year > 2200) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** Parses a date in the profile's order (`dd/MM/yyyy` for Gensolve); ISO `yyyy-MM-dd` is always accepted. */
export function parseDate(text: string, order: DateOrder): Parsed<LocalDate> & { first?: number } {
  const t = text.trim();
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$/.exec(t);
  if (iso) {
    const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    return validCalendarDate(year, month, day)
      ? ok({ year, month, day })
      : fail(`"${t}" is not a calendar date`);
  }
  // Real exports write date columns with a time part (`23/10/1964 12:00:00 AM`): FORMAT.md says
  // to read the date whatever time follows, as long as what follows is a time.
  const m = /^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})(?:[ T]+(.+))?$/.exec(t);
  if (m?.[4] !== undefined && !parseTime(m[4]).ok)
    return fail(`"${t}" is a date followed by "${m[4]}", which is not a time`);
  if (!m)
    return fail(
      `"${t}" is not a date in ${order === 'dmy' ? 'dd/MM/yyyy' : order === 'mdy' ? 'MM/dd/yyyy' : 'yyyy/MM/dd'} form`,
    );
  const a = Number(m[1]);
  const b = Number(m[2]);
  const c = Number(m[3]);
  let year: number;
  let month: number;
  let day: number;
  if (order === 'ymd') [year, month, day] = [a, b, c];
  else if (order === 'dmy') [day, month, year] = [a, b, c];
  else [month, day, year] = [a, b, c];
  if (String(year).length !== 4) return fail(`"${t}" has no four-digit year`);
  if (month > 12) return fail(`"${t}": month ${month} is over 12 (day and month swapped?)`);
  if (!validCalendarDate(year, month, day)) return fail(`"${t}" is not a calendar date`);
  return { ...ok({ year, month, day }), first: a };
}

export function formatDate(d: LocalDate): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

/** `HH:mm`, `HH:mm:ss` (24 h) or `h:mm tt` (`9:30 AM`). */
export function parseTime(text: string): Parsed<LocalTime> {
  const t = text.trim();
  const m = /^(\d{1,2})[:.](\d{2})(?::(\d{2})(?:\.\d{1,7})?)?\s*(?:Z|[AaPp]\.?[Mm]\.?)?$/.exec(t);
  if (!m) return fail(`"${t}" is not a time such as 14:30 or 2:30 PM`);
  let hour = Number(m[1]);
  const minute = Number(m[2]);
  const second = m[3] ? Number(m[3]) : 0;
  const meridiem = /[AaPp]\.?[Mm]\.?$/.exec(t)?.[0].replace(/\./g, '').toLowerCase();
  if (meridiem) {
    if (hour < 1 || hour > 12) return fail(`"${t}": hour ${hour} is not on a 12-hour clock`);
    hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 59) return fail(`"${t}" is not a time of day`);
  return ok({ hour, minute, second });
}

/** `dd/MM/yyyy HH:mm[:ss]` or `dd/MM/yyyy h:mm tt`; a bare date means midnight. */
export function parseDateTime(text: string, order: DateOrder): Parsed<{ date: LocalDate; time: LocalTime }> {
  const t = text.trim();
  const iso = /^(\d{4}-\d{1,2}-\d{1,2})[T ](\d{1,2}:\d{2}(?::\d{2})?)/.exec(t);
  const m = iso ?? /^(\S+)(?:\s+(.+))?$/.exec(t);
  if (!m?.[1]) return fail(`"${t}" is not a date and time`);
  const date = parseDate(m[1], order);
  if (!date.ok) return fail(date.reason);
  if (!m[2]) return ok({ date: date.value, time: { hour: 0, minute: 0, second: 0 } });
  const time = parseTime(m[2]);
  return time.ok ? ok({ date: date.value, time: time.value }) : fail(time.reason);
}

export function parseBoolean(
  text: string,
  words: { true: readonly string[]; false: readonly string[] },
): Parsed<boolean | undefined> {
  const t = text.trim().toLowerCase();
  if (t === '') return ok(undefined);
  if (words.true.includes(t)) return ok(true);
  if (words.false.includes(t)) return ok(false);
  return fail(`"${text.trim()}" is not yes or no`);
}

export function parseWholeNumber(text: string, min: number, max: number): Parsed<number> {
  const t = text.trim();
  if (!/^\d+(\.0+)?$/.test(t)) return fail(`"${t}" is not a whole number`);
  const n = Number.parseInt(t, 10);
  return n < min || n > max ? fail(`${n} is outside ${min}–${max}`) : ok(n);
}

/**
 * Tracks whether a date column proves its day/month order. A column in which no first component
 * is over 12 could be read either way: the most common silent migration error.
 */
export class DateOrderEvidence {
  private readonly columns = new Map<string, { parsed: number; proven: boolean }>();

  observe(file: string, column: string, first: number | undefined): void {
    if (first === undefined) return;
    const key = `${file}\u0000${column}`;
    const c = this.columns.get(key) ?? { parsed: 0, proven: false };
    c.parsed++;
    if (first > 12) c.proven = true;
    this.columns.set(key, c);
  }

  /** The evidence as plain data, to be merged with other batches' (`merge`). */
  snapshot(): Record<string, { parsed: number; proven: boolean }> {
    return Object.fromEntries(this.columns);
  }

  merge(snapshot: Record<string, { parsed: number; proven: boolean }>): void {
    for (const [key, c] of Object.entries(snapshot)) {
      const mine = this.columns.get(key) ?? { parsed: 0, proven: false };
      this.columns.set(key, { parsed: mine.parsed + c.parsed, proven: mine.proven || c.proven });
    }
  }

  ambiguous(): { file: string; column: string; values: number }[] {
    return [...this.columns.entries()]
      .filter(([, c]) => !c.proven && c.parsed > 0)
      .map(([key, c]) => {
        const [file = '', column = ''] = key.split('\u0000');
        return { file, column, values: c.parsed };
      });
  }
}

/**
 * The calendar date of a manifest's `exportedAt` (`2026-11-20T09:00:00+13:00` → 2026-11-20, the
 * clinic's own date as written), or undefined when it has none.
 */
export function exportDateOf(exportedAt: string | undefined): LocalDate | undefined {
  const parsed = exportedAt ? parseDate(exportedAt.slice(0, 10), 'ymd') : undefined;
  return parsed?.ok ? parsed.value : undefined;
}
