import { Annotations, App, type AppProps, Tags } from 'aws-cdk-lib';
import { MigrationStack } from './migration-stack.js';
import { checkResidency, parseClinics, ResidencyError } from './residency.js';

/**
 * The CDK app: one stack. Context: `region` (required, from `-c region=…` only: where the clinic's
 * data lives), `clinics` (`clinic-7:au1:4,…`: clinic ids with their Cliniko shard and, optionally,
 * how many API keys they give; `shard` gives one to all),
 * `residencyOverride` (a reason to deploy outside the shards' countries), `stackName` (default
 * ClinikoMigrate), `alarmEmail`, `exportRetentionDays`, `signedOffGraceDays`, `auditRetentionDays`, `maxConcurrentRuns`
 * (runs at once; default 10).
 */
export function createApp(props: AppProps = {}): App {
  const app = new App(props);
  const context = (name: string): string | undefined => {
    const v = app.node.tryGetContext(name);
    return v === undefined || v === null || v === '' ? undefined : String(v);
  };
  // Only what the operator states: not cdk.json, nor the profile's default region (CDK_DEFAULT_REGION),
  // since the region decides in which country the clinic's health records are kept.
  const region = context('region');
  if (!region)
    throw new ResidencyError(
      'the AWS region is required (-c region=ap-southeast-2): it decides where the clinic’s health records are kept',
    );
  const clinics = parseClinics(context('clinics') ?? '', context('shard'));
  const override = context('residencyOverride');
  const accepted = checkResidency(region, clinics, override);
  const number = (name: string) => (context(name) ? Number(context(name)) : undefined);
  const stack = new MigrationStack(app, context('stackName') ?? 'ClinikoMigrate', {
    clinics: clinics.map((c) => c.clinicId),
    clinicKeys: clinics.map((c) => c.keys ?? 1),
    ...(context('alarmEmail') ? { alarmEmail: context('alarmEmail') } : {}),
    ...(number('exportRetentionDays') ? { exportRetentionDays: number('exportRetentionDays') } : {}),
    ...(number('signedOffGraceDays') ? { signedOffGraceDays: number('signedOffGraceDays') } : {}),
    ...(number('auditRetentionDays') ? { auditRetentionDays: number('auditRetentionDays') } : {}),
    ...(number('maxConcurrentRuns') ? { maxConcurrentRuns: number('maxConcurrentRuns') } : {}),
    env: { region, ...(process.env.CDK_DEFAULT_ACCOUNT ? { account: process.env.CDK_DEFAULT_ACCOUNT } : {}) },
  });
  Tags.of(stack).add('cliniko-migrate:data-region', region);
  if (accepted.length && override) {
    // Deployed outside the shards' countries on purpose: the reason travels with the stack.
    Tags.of(stack).add('cliniko-migrate:residency-override', override.slice(0, 250));
    for (const p of accepted)
      Annotations.of(stack).addWarningV2('cliniko-migrate:residency', `${p} (override: ${override})`);
  }
  return app;
}
