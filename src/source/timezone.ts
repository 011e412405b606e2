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
const offsetCache = new Map<string, number>();

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

/** The zone's offset from UTC in minutes at an instant (cached per zone and quarter hour). */
export function offsetMinutes(zone: string, utcMs: number): number {
  const bucket = Math.floor(utcMs / 900_000);
  const key = `${zone}|${bucket}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  const at = bucket * 900_000;
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
  const offset = Math.round((asUtc - at) / 60_000);
  if (offsetCache.size > 200_000) offsetCache.clear();
  offsetCache.set(key, offset);
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
