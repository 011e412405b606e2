import type { ClinikoClient } from '../cliniko/client.js';
import type { BusyWeek } from './approval-aids.js';

/**
 * After a live run, the busiest week read back from Cliniko: its appointments counted per
 * practitioner and per business, set beside the export's counts. Appointments are matched to the
 * week by their local date in their business's zone, as the export's were.
 */
export async function busyWeekInCliniko(
  client: ClinikoClient,
  week: BusyWeek,
  refs: {
    /** Source practitioner id → Cliniko practitioner id. */
    readonly practitioners: Readonly<Record<string, { readonly clinikoId?: string }>>;
    /** Source location id → Cliniko business id and zone. */
    readonly locations: Readonly<Record<string, { readonly businessId?: string; readonly timeZone: string }>>;
    readonly defaultBusinessId?: string;
    readonly defaultTimeZone: string;
  },
): Promise<BusyWeek> {
  const from = new Date(`${week.weekStart}T00:00:00Z`);
  from.setUTCDate(from.getUTCDate() - 1);
  const to = new Date(`${week.weekEnd}T00:00:00Z`);
  to.setUTCDate(to.getUTCDate() + 2);
  const appointments = await client.listIndividualAppointments([
    `starts_at:>=${from.toISOString()}`,
    `starts_at:<${to.toISOString()}`,
    'cancelled_at:*',
    'archived_at:*',
  ]);
  const zoneOfBusiness = new Map<string, string>();
  for (const l of Object.values(refs.locations))
    if (l.businessId) zoneOfBusiness.set(l.businessId, l.timeZone);
  const localDate = (utc: string, zone: string) =>
    new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).format(new Date(utc));
  const byPractitioner = new Map<string, number>();
  const byBusiness = new Map<string, number>();
  for (const a of appointments) {
    const business = String(linkId(a.business) ?? '');
    const zone = zoneOfBusiness.get(business) ?? refs.defaultTimeZone;
    const day = localDate(a.starts_at, zone);
    if (day < week.weekStart || day > week.weekEnd) continue;
    const practitioner = String(linkId(a.practitioner) ?? '');
    byPractitioner.set(practitioner, (byPractitioner.get(practitioner) ?? 0) + 1);
    byBusiness.set(business, (byBusiness.get(business) ?? 0) + 1);
  }
  return {
    ...week,
    byPractitioner: week.byPractitioner.map((p) => {
      const id = refs.practitioners[p.sourceId]?.clinikoId;
      return { ...p, cliniko: id ? (byPractitioner.get(id) ?? 0) : 0 };
    }),
    byLocation: week.byLocation.map((l) => {
      const id =
        (l.sourceId === '(default business)' ? undefined : refs.locations[l.sourceId]?.businessId) ??
        refs.defaultBusinessId;
      return { ...l, cliniko: id ? (byBusiness.get(id) ?? 0) : 0 };
    }),
  };
}

/** Cliniko links related records as `{ links: { self: ".../practitioners/123" } }`. */
function linkId(link: unknown): string | undefined {
  const self = (link as { links?: { self?: string } } | undefined)?.links?.self;
  return self?.split('/').pop();
}
