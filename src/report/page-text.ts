import type { RunReport } from './run-report.js';

/** The words, numbers and tables of `report.html` (report-page.ts), shared by its sections. */
export function esc(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

export const isLive = (report: RunReport) => report.mode === 'live';

/** What the first segment and column are called: a dry run plans, a live run creates. */
export const movedLabel = (report: RunReport) => (isLive(report) ? 'Created in Cliniko' : 'Ready to create');
export const movedField = (report: RunReport) => (isLive(report) ? 'created' : 'planned');

/**
 * A number on the page, tagged with where it comes from in report.json (`data-figure`: dotted
 * paths, `*` for every key or item, `#` for a list's length, `+` to add), so a test can check
 * every figure against the file.
 */
export function fig(value: number, source: string, text = value.toLocaleString('en-US')): string {
  return `<span class="figure" data-figure="${esc(source)}">${text}</span>`;
}

/** `Pacific/Auckland` → `Auckland time`; UTC stays UTC. */
export function zoneWords(zone: string): string {
  if (zone === 'UTC' || zone === 'Etc/UTC') return 'UTC';
  return `${(zone.split('/').pop() ?? zone).replace(/_/g, ' ')} time`;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(zone: string, options: Intl.DateTimeFormatOptions): Intl.DateTimeFormat {
  const key = `${zone}|${JSON.stringify(options)}`;
  let f = formats.get(key);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: zone });
    } catch {
      f = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: 'UTC' });
    }
    formats.set(key, f);
  }
  return f;
}

/** `Monday 23 November 2026, 2:00 pm` in `zone` (an instant), or '' when it is not one. */
export function plainDateTime(iso: string, zone: string, weekday: 'long' | 'short' = 'long'): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  const day = format(zone, {
    weekday,
    day: 'numeric',
    month: weekday === 'long' ? 'long' : 'short',
    year: 'numeric',
  }).format(at);
  const time = format(zone, { hour: 'numeric', minute: '2-digit', hour12: true }).format(at);
  return `${day.replace(',', '')}, ${time.replace(/\s?([ap])m$/i, ' $1m').toLowerCase()}`;
}

/** A local wall-clock `yyyy-mm-ddTHH:mm` (no zone) in the same words, read as it is written. */
export function plainLocal(local: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}):(\d{2}))?/.exec(local);
  if (!m) return local;
  return m[2] === undefined
    ? plainDate(m[1] ?? '')
    : plainDateTime(`${m[1]}T${m[2]}:${m[3]}:00Z`, 'UTC', 'short');
}

/** `2024-05-13` → `Mon 13 May 2024`. */
export function plainDate(day: string, withYear = true): string {
  const at = new Date(`${day.slice(0, 10)}T12:00:00Z`);
  if (Number.isNaN(at.getTime())) return day;
  return format('UTC', {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    ...(withYear ? { year: 'numeric' } : {}),
  })
    .format(at)
    .replace(',', '');
}

/** How long, in words: `5 minutes`, `1 hour 12 minutes`, `40 seconds`. */
export function duration(seconds: number): string {
  if (seconds < 90) return `${Math.round(seconds)} second${Math.round(seconds) === 1 ? '' : 's'}`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} minutes`;
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return `${h} hour${h === 1 ? '' : 's'}${m ? ` ${m} minute${m === 1 ? '' : 's'}` : ''}`;
}

/** A plain table of `rows` under `head`, `none` when empty; every cell escaped. */
export const table = (head: readonly string[], rows: readonly (readonly unknown[])[], id?: string) =>
  `<table${id ? ` id="${id}"` : ''}><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${
    rows.length
      ? rows.map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('')
      : `<tr><td colspan="${head.length}">none</td></tr>`
  }</tbody></table>`;
