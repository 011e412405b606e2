import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { UsageError } from './errors.js';

/**
 * Where the commands that talk to a deployed stack (`status`, `approve`, `rollback` with
 * `--stack`) send their AWS calls: a region, and the named profile whose credentials (and
 * region) they use. Every AWS client those commands build is given both.
 */
export interface AwsTarget {
  readonly region: string;
  /** The shared-config profile (`--profile`, else the SDK's own choice: AWS_PROFILE, then default). */
  readonly profile?: string;
}

/** The region a named profile sets in the shared config file (~/.aws/config, or AWS_CONFIG_FILE). */
export type ProfileRegion = (profile: string | undefined) => Promise<string | undefined>;

/**
 * Resolves the region as the README's deploy section says (issue 15): `--region`, then
 * AWS_REGION, then AWS_DEFAULT_REGION, then the profile's `region` (the profile is `--profile`,
 * else AWS_PROFILE, else `default`). Throws {@link UsageError} (exit 2) naming all of these when
 * none gives a region, instead of the SDK's bare "Region is missing".
 */
export async function resolveAwsTarget(
  flags: { readonly region?: string | undefined; readonly profile?: string | undefined },
  env: NodeJS.ProcessEnv = process.env,
  profileRegion: ProfileRegion = sharedConfigRegion,
): Promise<AwsTarget> {
  const profile = flags.profile ?? (env.AWS_PROFILE || undefined);
  const region =
    flags.region ||
    env.AWS_REGION ||
    env.AWS_DEFAULT_REGION ||
    (await profileRegion(profile).catch(() => undefined));
  if (!region)
    throw new UsageError(
      `no AWS region for the deployed stack: give --region <region> (e.g. --region ap-southeast-2), set AWS_REGION or AWS_DEFAULT_REGION, or set "region" for profile ${profile ?? 'default'} in ~/.aws/config (aws configure${profile ? ` --profile ${profile}` : ''})`,
    );
  return { region, ...(profile ? { profile } : {}) };
}

/** The options every AWS SDK client of these commands is built with. */
export function clientConfig(target: AwsTarget): { region: string; profile?: string } {
  return { region: target.region, ...(target.profile ? { profile: target.profile } : {}) };
}

/**
 * The profile's region as the AWS SDK reads it from the shared config files: a client built for
 * the profile resolves its region, and the environment variables were looked at already.
 */
async function sharedConfigRegion(profile: string | undefined): Promise<string | undefined> {
  const probe = new CloudFormationClient(profile ? { profile } : {});
  try {
    return await probe.config.region();
  } finally {
    probe.destroy();
  }
}
