import { businessOverride, ConfigError, type MigrationConfig } from '../config/migration-config.js';
import type * as M from '../core/canonical.js';
import type { Severity } from '../core/problem.js';
import { isValidTimeZone } from '../core/time-zone.js';
import type { LocationRef, PractitionerRef } from '../translate/builders.js';

/**
 * Matches the export's practitioners and locations to what the clinic set up in Cliniko (the API
 * cannot create either): by the id map of `migration.json` first, then by name, case- and
 * space-insensitive. Unmatched practitioners follow `unmatchedPractitioners`; unmatched locations
 * fall back to the default business.
 */
export interface ClinikoPractitioner {
  readonly id: string;
  readonly first_name?: string | null;
  readonly last_name?: string | null;
  readonly active?: boolean | null;
}

export interface ClinikoBusiness {
  readonly id: string;
  readonly business_name?: string | null;
  readonly display_name?: string | null;
  readonly time_zone_identifier?: string | null;
}

export interface ResolutionNote {
  readonly sourceId: string;
  readonly field: string;
  readonly code: string;
  readonly severity: Severity;
  readonly message: string;
}

const norm = (s: string | null | undefined) => (s ?? '').toLowerCase().replace(/\s+/g, ' ').trim();

export function resolvePractitioners(
  source: readonly M.Practitioner[],
  cliniko: readonly ClinikoPractitioner[],
  config: MigrationConfig,
): { refs: Map<string, PractitionerRef>; notes: ResolutionNote[] } {
  const byId = new Map(cliniko.map((p) => [p.id, p]));
  const byName = new Map<string, ClinikoPractitioner>();
  for (const p of cliniko) {
    const key = `${norm(p.first_name)}|${norm(p.last_name)}`;
    // active practitioners win over inactive namesakes
    if (!byName.has(key) || p.active) byName.set(key, p);
  }
  for (const [sourceId, id] of Object.entries(config.practitioners)) {
    if (!byId.has(id))
      throw new ConfigError(`migration.json: practitioners.${sourceId}: Cliniko has no practitioner ${id}`);
  }
  const policy = config.unmatchedPractitioners;
  let fallback: string | undefined;
  if (typeof policy === 'object') {
    if (!byId.has(policy.reassignTo))
      throw new ConfigError(
        `migration.json: unmatchedPractitioners.reassignTo: Cliniko has no practitioner ${policy.reassignTo}`,
      );
    fallback = policy.reassignTo;
  } else if (policy === 'former-practitioner') {
    const former = cliniko.find(
      (p) => norm(`${p.first_name ?? ''} ${p.last_name ?? ''}`) === 'former practitioner',
    );
    if (!former) {
      throw new ConfigError(
        'migration.json: unmatchedPractitioners: "former-practitioner" needs a Cliniko practitioner named "Former practitioner"; create that user in Cliniko first',
      );
    }
    fallback = former.id;
  }

  const refs = new Map<string, PractitionerRef>();
  const notes: ResolutionNote[] = [];
  for (const p of source) {
    const name = [p.title, p.firstName, p.lastName].filter(Boolean).join(' ');
    const mapped = config.practitioners[p.sourceId];
    const match = mapped ?? byName.get(`${norm(p.firstName)}|${norm(p.lastName)}`)?.id;
    if (match) {
      refs.set(p.sourceId, { status: 'matched', clinikoId: match, name });
      continue;
    }
    const who = `${p.firstName} ${p.lastName}`;
    if (fallback) {
      refs.set(p.sourceId, { status: 'matched', clinikoId: fallback, name });
      notes.push({
        sourceId: p.sourceId,
        field: 'PractitionerId',
        code: 'PRACTITIONER_REASSIGNED',
        severity: 'warning',
        message: `${who} matches no Cliniko practitioner; their appointments go to practitioner ${fallback}`,
      });
    } else if (policy === 'exclude') {
      refs.set(p.sourceId, { status: 'excluded', name });
      notes.push({
        sourceId: p.sourceId,
        field: 'PractitionerId',
        code: 'PRACTITIONER_EXCLUDED',
        severity: 'info',
        message: `${who} matches no Cliniko practitioner; their appointments are skipped`,
      });
    } else {
      refs.set(p.sourceId, { status: 'unmatched', name });
      notes.push({
        sourceId: p.sourceId,
        field: 'PractitionerId',
        code: 'UNMATCHED_PRACTITIONER',
        severity: 'error',
        message: `Practitioner ${who} (${p.sourceId}) matches no Cliniko practitioner by name: create them in Cliniko with that name, or map them in migration.json "practitioners": {"${p.sourceId}": "<Cliniko practitioner id>"}, or set "unmatchedPractitioners" to "former-practitioner", {"reassignTo": "<id>"} or "exclude"`,
      });
    }
  }
  return { refs, notes };
}

export interface LocationResolution {
  readonly refs: Map<string, LocationRef>;
  readonly defaultBusinessId: string | undefined;
  readonly defaultTimeZone: string;
  readonly notes: ResolutionNote[];
}

export function resolveLocations(
  source: readonly M.Location[],
  cliniko: readonly ClinikoBusiness[],
  config: MigrationConfig,
  manifestTimeZone: string | undefined,
): LocationResolution {
  const byId = new Map(cliniko.map((b) => [b.id, b]));
  const byName = new Map<string, ClinikoBusiness>();
  for (const b of cliniko) {
    for (const name of [b.business_name, b.display_name])
      if (name && !byName.has(norm(name))) byName.set(norm(name), b);
  }
  if (config.defaultBusinessId && !byId.has(config.defaultBusinessId)) {
    throw new ConfigError(
      `migration.json: defaultBusinessId: Cliniko has no business ${config.defaultBusinessId}`,
    );
  }
  const defaultBusiness = config.defaultBusinessId ? byId.get(config.defaultBusinessId) : cliniko[0];
  const clinicZone =
    config.timeZone ?? manifestTimeZone ?? defaultBusiness?.time_zone_identifier ?? undefined;
  const notes: ResolutionNote[] = [];
  const refs = new Map<string, LocationRef>();
  for (const loc of source) {
    const override = businessOverride(config, loc.sourceId);
    if (override.id && !byId.has(override.id))
      throw new ConfigError(
        `migration.json: businesses.${loc.sourceId}: Cliniko has no business ${override.id}`,
      );
    let business = override.id ? byId.get(override.id) : byName.get(norm(loc.name));
    if (!business) {
      business = defaultBusiness;
      notes.push({
        sourceId: loc.sourceId,
        field: 'Name',
        code: 'LOCATION_UNMATCHED',
        severity: 'warning',
        message: `location "${loc.name}" matches no Cliniko business; its appointments go to ${business ? `"${business.business_name ?? business.id}"` : 'the default business'}`,
      });
    }
    let zone = override.timeZone ?? loc.timeZone;
    if (zone && !isValidTimeZone(zone)) {
      notes.push({
        sourceId: loc.sourceId,
        field: 'TimeZone',
        code: 'INVALID_TIME_ZONE',
        severity: 'warning',
        message: `TimeZone "${zone}" is not an IANA zone; the business's zone is used`,
      });
      zone = undefined;
    }
    zone ??= business?.time_zone_identifier ?? clinicZone;
    if (!zone)
      throw new ConfigError(`location ${loc.sourceId} has no time zone: set "timeZone" in migration.json`);
    refs.set(loc.sourceId, {
      timeZone: zone,
      ...(business ? { businessId: business.id } : {}),
      ...(loc.name ? { name: loc.name } : {}),
    });
  }
  if (!clinicZone)
    throw new ConfigError(
      'the clinic has no time zone: set "timeZone" in migration.json (e.g. "Pacific/Auckland")',
    );
  return { refs, defaultBusinessId: defaultBusiness?.id, defaultTimeZone: clinicZone, notes };
}
