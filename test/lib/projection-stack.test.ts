import { describe, expect, it } from '@jest/globals';
import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { POLLS_PER_EXECUTION } from '../../lib/constructs/pipeline-definition.js';
import { MigrationStack } from '../../lib/migration-stack.js';
import { PHASES } from '../../src/batch/row-processing.js';
import { ENV, lambdaEnvironment } from '../../src/core/environment.js';
import { PROJECTED_FUNCTIONS, PROJECTED_PHASES, STACK_SHAPE } from '../../src/report/run-projection.js';

const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
const template = Template.fromStack(new MigrationStack(app, 'Test', { clinics: ['clinic-a'] }));
const functions = Object.entries(template.findResources('AWS::Lambda::Function'));

describe('the run projection follows the stack it costs', () => {
  it.each(PROJECTED_FUNCTIONS)('%s: the memory the stack configures', (name) => {
    const id = name === 'writer' ? 'Writer' : name.charAt(0).toUpperCase() + name.slice(1);
    const found = functions.filter(([logicalId]) => new RegExp(`^${id}[0-9A-F]{8}$`).test(logicalId));
    expect(found).toHaveLength(1);
    expect(found[0]?.[1].Properties?.MemorySize).toBe(STACK_SHAPE.memoryMb[name]);
  });

  it('carries a run on in a fresh execution after as many checks as the state machine does', () => {
    expect(STACK_SHAPE.pollsPerExecution).toBe(POLLS_PER_EXECUTION);
  });

  it("has the pipeline's phases, in their order, and Plan's batch size", () => {
    expect(PROJECTED_PHASES).toEqual(PHASES);
    expect(STACK_SHAPE.batchSize).toBe(
      lambdaEnvironment({ [ENV.statusTable]: 't', [ENV.bucket]: 'b', [ENV.writeQueueUrl]: 'q' }).batchSize,
    );
  });

  it('keeps working files as long as the bucket does', () => {
    const rules = Object.values(template.findResources('AWS::S3::Bucket')).flatMap(
      (b) =>
        (b.Properties?.LifecycleConfiguration?.Rules ?? []) as {
          Prefix?: string;
          ExpirationInDays?: number;
        }[],
    );
    expect(rules.find((r) => r.Prefix === 'work/')?.ExpirationInDays).toBe(STACK_SHAPE.workingFileDays);
  });
});
