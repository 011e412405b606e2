import { createHash } from 'node:crypto';
import { clinicTime } from '../core/time-zone.js';

/**
 * Deterministic samples for the approval aids: the records whose source ids hash lowest, so the
 * same export gives the same sample however it is split into batches.
 */
const rank = (id: string) => createHash('sha256').update(id).digest('hex').slice(0, 16);

/** The `limit` lowest-ranked of `list`, by the hash of `id`. */
export function keepLowest<T>(list: readonly T[], id: (t: T) => string, limit: number): T[] {
  return list
    .map((t) => [rank(id(t)), t] as const)
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limit)
    .map(([, t]) => t);
}

/**
 * The `limit` lowest-ranked entries seen, by id. One hash per record; a record that cannot get
 * in is rejected before anything is built for it, so a scan of 150,000 rows stays fast.
 */
export class LowestK<T> {
  private readonly entries: { rank: string; id: string; value: T }[] = [];
  constructor(private readonly limit: number) {}

  /** Whether `id` would be kept now (so its value is worth building). */
  admits(id: string): string | undefined {
    const r = rank(id);
    if (this.entries.some((e) => e.id === id)) return r;
    const worst = this.entries[this.entries.length - 1];
    return this.entries.length < this.limit || (worst && r < worst.rank) ? r : undefined;
  }

  /** Adds it, and returns the id pushed out, if any. */
  add(id: string, r: string, value: T): string | undefined {
    const at = this.entries.findIndex((e) => e.id === id);
    if (at >= 0) {
      (this.entries[at] as { value: T }).value = value;
      return undefined;
    }
    let i = this.entries.length;
    while (i > 0 && (this.entries[i - 1]?.rank ?? '') > r) i--;
    this.entries.splice(i, 0, { rank: r, id, value });
    return this.entries.length > this.limit ? this.entries.pop()?.id : undefined;
  }

  get(id: string): T | undefined {
    return this.entries.find((e) => e.id === id)?.value;
  }

  values(): T[] {
    return this.entries.map((e) => e.value);
  }

  byId(): Record<string, T> {
    return Object.fromEntries(this.entries.map((e) => [e.id, e.value]));
  }
}

const weeks = new Map<string, string>();
/** Monday of the week of a local yyyy-mm-dd date (remembered: an export has a few thousand days). */
export function weekOf(localDate: string): string {
  const day = localDate.slice(0, 10);
  let monday = weeks.get(day);
  if (!monday) {
    const d = new Date(`${day}T00:00:00Z`);
    d.setUTCDate(d.getUTCDate() - ((d.getUTCDay() + 6) % 7));
    monday = d.toISOString().slice(0, 10);
    if (weeks.size < 100_000) weeks.set(day, monday);
  }
  return monday;
}

/** `utc` as the clinic reads it in `zone` (`13 May 2024, 14:00 NZST (Pacific/Auckland)`); see {@link clinicTime}. */
export function inZone(utc: string, zone: string): string {
  return clinicTime(utc, zone);
}
