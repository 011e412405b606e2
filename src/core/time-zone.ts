import type { LocalDate, LocalTime } from './values.js';

/**
 * Converts a clinic's local wall-clock time to UTC with the zone's DST rules. A time in a
 * spring-forward gap does not exist: it is moved later by the gap. A time in a fall-back overlap
 * happens twice: the earlier instant is taken. Both are reported, never applied silently.
 */
export interface UtcResult {
  readonly utc: Date;
  readonly adjustment?: 'gap' | 'overlap';
}

const formatters = new Map<string, Intl.DateTimeFormat>();

export function isValidTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return zone.includes('/') || zone === 'UTC';
  } catch {
    return false;
  }
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone: zone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(zone, f);
  }
  return f;
}

function exactOffset(zone: string, at: number): number {
  const parts = formatter(zone).formatToParts(new Date(at));
  const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(
    get('year'),
    get('month') - 1,
    get('day'),
    get('hour'),
    get('minute'),
    get('second'),
  );
  return Math.round((asUtc - Math.floor(at / 1000) * 1000) / 60_000);
}

const DAY = 86_400_000;
/** zone → UTC day → offset for the whole day, or NaN when the offset changes during that day. */
const dayCache = new Map<string, Map<number, number>>();
/** zone → quarter hour → offset, for the few days with a transition. */
const fineCache = new Map<string, Map<number, number>>();

function cacheFor(cache: Map<string, Map<number, number>>, zone: string): Map<number, number> {
  let m = cache.get(zone);
  if (!m) {
    m = new Map();
    cache.set(zone, m);
  }
  return m;
}

/**
 * The zone's offset from UTC in minutes at an instant. Offsets change only on transition days,
 * so one answer per day serves every other day; transition days are resolved per quarter hour
 * (every real zone's transitions fall on quarter hours).
 */
export function offsetMinutes(zone: string, utcMs: number): number {
  const day = Math.floor(utcMs / DAY);
  const days = cacheFor(dayCache, zone);
  let whole = days.get(day);
  if (whole === undefined) {
    const start = exactOffset(zone, day * DAY);
    const end = exactOffset(zone, (day + 1) * DAY - 1000);
    whole = start === end ? start : Number.NaN;
    days.set(day, whole);
  }
  if (!Number.isNaN(whole)) return whole;
  const bucket = Math.floor(utcMs / 900_000);
  const fine = cacheFor(fineCache, zone);
  let offset = fine.get(bucket);
  if (offset === undefined) {
    offset = exactOffset(zone, bucket * 900_000);
    fine.set(bucket, offset);
  }
  return offset;
}

export function localToUtc(date: LocalDate, time: LocalTime, zone: string): UtcResult {
  const wall = Date.UTC(date.year, date.month - 1, date.day, time.hour, time.minute, time.second);
  const candidates = new Set([
    offsetMinutes(zone, wall - 86_400_000),
    offsetMinutes(zone, wall),
    offsetMinutes(zone, wall + 86_400_000),
  ]);
  const valid = [...candidates]
    .map((o) => wall - o * 60_000)
    .filter((t) => offsetMinutes(zone, t) * 60_000 === wall - t);
  if (valid.length === 1) return { utc: new Date(valid[0] as number) };
  if (valid.length > 1) return { utc: new Date(Math.min(...valid)), adjustment: 'overlap' };
  // In the gap: read the wall time with the offset in force before the transition, which lands
  // the same distance past the transition as the wall time was past its start.
  const before = offsetMinutes(zone, wall - 86_400_000);
  return { utc: new Date(wall - before * 60_000), adjustment: 'gap' };
}

export function toUtcString(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/**
 * English locales tried in turn for a zone's abbreviation: ICU names a zone's abbreviation only
 * in the locales where it is in common use (NZDT in en-NZ, AEST in en-AU, EST in en-US); elsewhere
 * it falls back to `GMT+13`.
 */
const ABBREVIATION_LOCALES = [
  'en-US',
  'en-GB',
  'en-NZ',
  'en-AU',
  'en-CA',
  'en-IE',
  'en-IN',
  'en-ZA',
  'en-SG',
];
const nameFormatters = new Map<string, Intl.DateTimeFormat>();

function zoneName(zone: string, locale: string, at: Date): string {
  const key = `${locale}|${zone}`;
  let f = nameFormatters.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(locale, { timeZone: zone, timeZoneName: 'short' });
    nameFormatters.set(key, f);
  }
  return f.formatToParts(at).find((p) => p.type === 'timeZoneName')?.value ?? '';
}

/** `NZDT`, `AEST`, `BST`; `UTC+5:30` where no English locale has a name for the zone's offset. */
export function zoneAbbreviation(zone: string, at: Date): string {
  let fallback = '';
  for (const locale of ABBREVIATION_LOCALES) {
    const name = zoneName(zone, locale, at);
    if (name && !/^(GMT|UTC)[+\-−]/.test(name)) return name;
    fallback ||= name;
  }
  return fallback.replace(/^GMT/, 'UTC');
}

const wallFormatters = new Map<string, Intl.DateTimeFormat>();
/** Month names spelled here: ICU's short English names differ between versions (`Sep`, `Sept`). */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The zone of the machine the command runs on: what a time is read in when the clinic's is unknown. */
export function machineTimeZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
}

/**
 * An instant as a person at the clinic reads it, in `zone` and naming it, so it cannot be taken
 * for another zone's: `4 Dec 2026, 14:05 NZDT (Pacific/Auckland)`. `at` is a Date or an ISO 8601
 * instant; text that is not an instant, or a zone Intl does not know, is returned as given (an
 * ISO instant stays readable, if not local). Every time the CLI, messages and report show a
 * person is written by this function (issue 26).
 */
export function clinicTime(at: Date | string, zone: string): string {
  const when = typeof at === 'string' ? new Date(at) : at;
  if (Number.isNaN(when.getTime())) return String(at);
  let f = wallFormatters.get(zone);
  try {
    if (!f) {
      f = new Intl.DateTimeFormat('en-GB', {
        timeZone: zone,
        day: 'numeric',
        month: 'numeric',
        year: 'numeric',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
      wallFormatters.set(zone, f);
    }
  } catch {
    return typeof at === 'string' ? at : toUtcString(at);
  }
  const parts = f.formatToParts(when);
  const get = (type: string) => parts.find((p) => p.type === type)?.value ?? '';
  return `${Number(get('day'))} ${MONTHS[Number(get('month')) - 1] ?? get('month')} ${get('year')}, ${get('hour')}:${get('minute')} ${zoneAbbreviation(zone, when)} (${zone})`;
}
