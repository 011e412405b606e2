import type { MigrationConfig } from '../config/migration-config.js';
import type * as M from '../core/canonical.js';

/**
 * Which attended appointments get their attendee marked arrived (`migration.json` `markArrivals`,
 * docs/CONFIGURATION.md). Cliniko's `patient_arrived` is response-only: it is set with the
 * appointment's attendee (`GET /attendees?q[]=booking_id:=…` then `PATCH /attendees/{id}`
 * `{"arrived": true}`, Cliniko's API documentation on individual appointments), two requests per
 * appointment. Did-not-arrive is always kept (the same two requests), whatever the setting.
 */
export type ArrivalSetting = MigrationConfig['markArrivals'];

/** `recent`: attended appointments of this many days before the export, and every later one. */
export const RECENT_ARRIVAL_DAYS = 90;
/** Requests one marked arrival costs: list the appointment's attendee, then update it. */
export const REQUESTS_PER_ARRIVAL = 2;

/** The first UTC day `recent` covers: 90 days before the export's date (`yyyy-mm-dd`). */
export function recentSince(exportDate: string): string {
  const at = new Date(Number.isNaN(Date.parse(exportDate)) ? Date.now() : Date.parse(exportDate));
  at.setUTCDate(at.getUTCDate() - RECENT_ARRIVAL_DAYS);
  return at.toISOString().slice(0, 10);
}

const attended = (status: M.Appointment['status']) => status === 'arrived' || status === 'completed';

/**
 * The attendee's `arrived` to set: `true` for an attended appointment the setting covers,
 * `false` for a did-not-arrive (always), otherwise nothing (no request).
 */
export function arrivalToMark(
  a: Pick<M.Appointment, 'status' | 'startsAt'>,
  setting: ArrivalSetting,
  since: string,
): boolean | undefined {
  if (a.status === 'did-not-arrive') return false;
  if (!attended(a.status) || setting === 'none') return undefined;
  if (setting === 'all') return true;
  return a.startsAt.slice(0, 10) >= since ? true : undefined;
}

/** Counts attended appointments by UTC day, so any cut-off can be costed after merging batches. */
export function countAttended(
  into: Record<string, number>,
  a: Pick<M.Appointment, 'status' | 'startsAt'>,
): void {
  if (!attended(a.status)) return;
  const day = a.startsAt.slice(0, 10);
  into[day] = (into[day] ?? 0) + 1;
}

export interface ArrivalChoice {
  /** Appointments whose attendee would be marked arrived. */
  readonly appointments: number;
  readonly requests: number;
  /** At the configured keys' combined rate limit (200 a minute each, 96 % used). */
  readonly minutes: number;
}

/** What the dry run states: each setting's cost in requests and time at the configured keys. */
export interface ArrivalCosts {
  readonly setting: ArrivalSetting;
  readonly recentSince: string;
  readonly keys: number;
  readonly choices: Record<ArrivalSetting, ArrivalChoice>;
}

export function arrivalCosts(
  attendedByDay: Readonly<Record<string, number>>,
  options: { setting: ArrivalSetting; exportDate: string; keys: number; perMinutePerKey?: number },
): ArrivalCosts {
  const since = recentSince(options.exportDate);
  let all = 0;
  let recent = 0;
  for (const [day, n] of Object.entries(attendedByDay)) {
    all += n;
    if (day >= since) recent += n;
  }
  const rate = Math.max(1, options.keys) * (options.perMinutePerKey ?? 200) * 0.96;
  const choice = (appointments: number): ArrivalChoice => {
    const requests = appointments * REQUESTS_PER_ARRIVAL;
    return { appointments, requests, minutes: Math.round((requests / rate) * 10) / 10 };
  };
  return {
    setting: options.setting,
    recentSince: since,
    keys: Math.max(1, options.keys),
    choices: { none: choice(0), recent: choice(recent), all: choice(all) },
  };
}

/** The same costs at another number of keys (time scales, requests do not). */
export function atKeys(costs: ArrivalCosts, keys: number): ArrivalCosts {
  const k = Math.max(1, keys);
  const scale = (c: ArrivalChoice): ArrivalChoice => ({
    ...c,
    minutes: Math.round(((c.minutes * costs.keys) / k) * 10) / 10,
  });
  return {
    ...costs,
    keys: k,
    choices: {
      none: scale(costs.choices.none),
      recent: scale(costs.choices.recent),
      all: scale(costs.choices.all),
    },
  };
}

/** One line for the terminal: each setting's cost, the chosen one first. */
export function arrivalsLine(costs: ArrivalCosts): string {
  const part = (k: ArrivalSetting) => {
    const c = costs.choices[k];
    return `${k} ${c.appointments} appointments = ${c.requests} requests ≈ ${c.minutes} min`;
  };
  const others = (['none', 'recent', 'all'] as const).filter((k) => k !== costs.setting).map(part);
  return `markArrivals "${costs.setting}": ${part(costs.setting)} at ${costs.keys} key${costs.keys === 1 ? '' : 's'} (${others.join('; ')})`;
}

/** Merges batches' attended-by-day counts. */
export function mergeAttended(
  parts: readonly (Readonly<Record<string, number>> | undefined)[],
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const p of parts) for (const [day, n] of Object.entries(p ?? {})) out[day] = (out[day] ?? 0) + n;
  return out;
}
