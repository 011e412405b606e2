import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import { createApp } from '../../lib/app.js';
import { parseClinics, residencyProblems } from '../../lib/residency.js';

/** `cdk synth` as bin/app.ts runs it, with the context an operator passes (bundling skipped). */
const synth = (context: Record<string, string>) =>
  createApp({ context: { 'aws:cdk:bundling-stacks': [], ...context } }).synth();

describe('where a clinic’s data may live', () => {
  it('refuses to synthesize a UK clinic in an Australian region, naming both', () => {
    expect(() => synth({ region: 'ap-southeast-2', clinics: 'clinic-7:uk2' })).toThrow(
      /clinic clinic-7: Cliniko shard uk2 keeps its data in the United Kingdom, but the stack is for AWS region ap-southeast-2; deploy to eu-west-2/,
    );
  });

  it('needs the region stated: neither cdk.json nor the profile’s default region stands in for it', () => {
    const cdkJson = JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8'));
    expect(cdkJson.context.region).toBeUndefined();
    const before = process.env.CDK_DEFAULT_REGION;
    process.env.CDK_DEFAULT_REGION = 'us-east-1';
    try {
      expect(() => synth({ clinics: 'clinic-7:au1' })).toThrow('the AWS region is required (-c region=');
    } finally {
      if (before === undefined) delete process.env.CDK_DEFAULT_REGION;
      else process.env.CDK_DEFAULT_REGION = before;
    }
  });

  it('synthesizes when the region fits every clinic’s shard', () => {
    const assembly = synth({ region: 'eu-west-2', clinics: 'clinic-7:uk2,clinic-8:uk1' });
    const stack = assembly.getStackByName('ClinikoMigrate');
    expect(stack.environment.region).toBe('eu-west-2');
    const au = synth({ region: 'ap-southeast-2', clinics: 'clinic-9', shard: 'au3' });
    expect(au.getStackByName('ClinikoMigrate').environment.region).toBe('ap-southeast-2');
  });

  it('deploys elsewhere only with a stated reason, which the stack carries', () => {
    const assembly = synth({
      region: 'ap-southeast-2',
      clinics: 'clinic-7:uk2',
      residencyOverride: 'DPA signed 2026-11',
    });
    const template = Template.fromJSON(assembly.getStackByName('ClinikoMigrate').template);
    const tagged = Object.values(template.findResources('AWS::S3::Bucket')).some((r) =>
      (r.Properties?.Tags ?? []).some(
        (t: { Key: string; Value: string }) =>
          t.Key === 'cliniko-migrate:residency-override' && t.Value === 'DPA signed 2026-11',
      ),
    );
    expect(tagged).toBe(true);
  });

  it('needs each clinic’s shard, and knows the shards’ countries', () => {
    expect(() => parseClinics('clinic-7')).toThrow(/clinic-7 needs its Cliniko shard/);
    expect(residencyProblems('ca-central-1', parseClinics('a:ca1'))).toEqual([]);
    expect(residencyProblems('eu-central-1', parseClinics('a:eu1'))).toEqual([]);
    expect(residencyProblems('us-east-1', parseClinics('a:au1'))[0]).toMatch(/Australia/);
    expect(residencyProblems('ap-southeast-2', parseClinics('a:zz1'))[0]).toMatch(
      /not one whose country is known/,
    );
  });

  it('reads how many API keys each clinic gives (default 1)', () => {
    expect(parseClinics('a:au1:4,b:uk1')).toEqual([
      { clinicId: 'a', shard: 'au1', keys: 4 },
      { clinicId: 'b', shard: 'uk1', keys: 1 },
    ]);
    expect(() => parseClinics('a:au1:four')).toThrow(/not a number of API keys/);
  });
});
