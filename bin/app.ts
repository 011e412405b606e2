import { App } from 'aws-cdk-lib';
import { MigrationStack } from '../lib/migration-stack.js';

/**
 * The CDK app: one stack. Context: `stackName` (default ClinikoMigrate), `clinics` (comma-separated
 * clinic ids that get an API-key secret), `exportRetentionDays`.
 */
const app = new App();
const context = (name: string): string | undefined => app.node.tryGetContext(name);
const clinics = (context('clinics') ?? '')
  .split(',')
  .map((c) => c.trim())
  .filter(Boolean);
new MigrationStack(app, context('stackName') ?? 'ClinikoMigrate', {
  clinics,
  ...(context('alarmEmail') ? { alarmEmail: context('alarmEmail') } : {}),
  ...(context('exportRetentionDays') ? { exportRetentionDays: Number(context('exportRetentionDays')) } : {}),
  ...(process.env.CDK_DEFAULT_REGION
    ? { env: { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION } }
    : {}),
});
