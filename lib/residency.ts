/**
 * Where a clinic's data may live. A Cliniko account is hosted in one shard's country; the export (a
 * full copy of the clinic's health records) and the pipeline's working data stay in an AWS region
 * of the same jurisdiction (docs/DATA-PROTECTION.md, Where it lives). A region outside it is
 * refused unless an override states why.
 */
const JURISDICTIONS: Record<string, { readonly name: string; readonly regions: readonly string[] }> = {
  au: { name: 'Australia', regions: ['ap-southeast-2', 'ap-southeast-4'] },
  uk: { name: 'the United Kingdom', regions: ['eu-west-2'] },
  ca: { name: 'Canada', regions: ['ca-central-1', 'ca-west-1'] },
  eu: {
    name: 'the European Union',
    regions: [
      'eu-west-1',
      'eu-west-3',
      'eu-central-1',
      'eu-central-2',
      'eu-north-1',
      'eu-south-1',
      'eu-south-2',
    ],
  },
  us: { name: 'the United States', regions: ['us-east-1', 'us-east-2', 'us-west-1', 'us-west-2'] },
};

export interface ClinicShard {
  readonly clinicId: string;
  readonly shard: string;
  /** API keys (Cliniko users) the clinic gives: each is a lane of 200 requests a minute. Default 1. */
  readonly keys?: number;
}

export class ResidencyError extends Error {
  override name = 'ResidencyError';
}

/**
 * `clinic-7:au1,clinic-9:uk2:4`; a clinic without `:shard` takes `defaultShard`; `:4` says how
 * many API keys the clinic gives (default 1), which sizes the writers.
 */
export function parseClinics(value: string, defaultShard?: string): ClinicShard[] {
  return value
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)
    .map((entry) => {
      const [clinicId = '', shard = defaultShard ?? '', keys] = entry.split(':').map((s) => s.trim());
      if (!/^[A-Za-z0-9_-]{1,64}$/.test(clinicId))
        throw new ResidencyError(`clinics: "${entry}" is not a clinic id (letters, digits, - and _)`);
      if (!/^[a-z]{2}\d{1,2}$/i.test(shard))
        throw new ResidencyError(
          `clinics: ${clinicId} needs its Cliniko shard (the suffix of its API key), e.g. ${clinicId}:au1, or -c shard=au1 for all`,
        );
      if (keys !== undefined && !/^[1-9]\d{0,2}$/.test(keys))
        throw new ResidencyError(
          `clinics: ${clinicId}: "${keys}" is not a number of API keys (e.g. ${clinicId}:${shard}:4 for four practitioners' keys)`,
        );
      return { clinicId, shard: shard.toLowerCase(), keys: keys === undefined ? 1 : Number(keys) };
    });
}

/** Why this region does not fit these clinics' shards; empty when it does. */
export function residencyProblems(region: string, clinics: readonly ClinicShard[]): string[] {
  const problems: string[] = [];
  for (const { clinicId, shard } of clinics) {
    const j = JURISDICTIONS[shard.slice(0, 2)];
    if (!j) {
      problems.push(`clinic ${clinicId}: Cliniko shard ${shard} is not one whose country is known`);
      continue;
    }
    if (!j.regions.includes(region))
      problems.push(
        `clinic ${clinicId}: Cliniko shard ${shard} keeps its data in ${j.name}, but the stack is for AWS region ${region}; deploy to ${j.regions.join(' or ')}`,
      );
  }
  return problems;
}

/** Throws unless the region fits every clinic, or an override gives a reason. */
export function checkResidency(region: string, clinics: readonly ClinicShard[], override?: string): string[] {
  const problems = residencyProblems(region, clinics);
  if (problems.length && !override?.trim())
    throw new ResidencyError(
      `${problems.join('\n')}\n(to deploy there anyway, pass -c residencyOverride="<the reason>")`,
    );
  return problems;
}
