import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, describe, expect, it } from '@jest/globals';
import { mockClient } from 'aws-sdk-client-mock';
import { z } from 'zod';
import { resetRuntime, runtime } from '../../lambdas/shared/runtime.js';
import { stepHandler } from '../../lambdas/shared/step.js';
import { ClinikoAuthError } from '../../src/cliniko/errors.js';

/** A step that Cliniko refused a key (401) reads the clinic's secret again on its next attempt (issue 24). */
const saved = { ...process.env };
Object.assign(process.env, {
  STATUS_TABLE: 'status',
  CLINIKO_SECRET_PREFIX: 'p/',
  AWS_REGION: 'ap-southeast-2',
});
const sm = mockClient(SecretsManagerClient);
sm.on(GetSecretValueCommand).resolves({
  SecretString: JSON.stringify({ apiKeys: ['StepUnitKey0000000000000001-au1'] }),
});
afterAll(() => {
  process.env = saved;
  resetRuntime();
});

const failing = (err: Error) =>
  stepHandler('Example', { input: z.object({}), output: z.object({}) }, async () => {
    throw err;
  });

describe('a step failing on Cliniko', () => {
  it('drops the kept secrets on a 401, and keeps them on any other failure', async () => {
    resetRuntime();
    await runtime().secrets.credentials('c1');
    await expect(failing(new Error('throttled'))({})).rejects.toThrow('throttled');
    await runtime().secrets.credentials('c1');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(1);
    const refused = new ClinikoAuthError({ method: 'GET', path: '/practitioners', keyLabel: '…0001' });
    await expect(failing(refused)({})).rejects.toBe(refused);
    await runtime().secrets.credentials('c1');
    expect(sm.commandCalls(GetSecretValueCommand)).toHaveLength(2);
  });
});
