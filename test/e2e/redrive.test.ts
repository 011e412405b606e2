import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalRunResult, runLocal } from '../../apps/local/run-local.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { clinicSandbox } from '../support/sandbox.js';

/**
 * Recovery after a fault, and the writer's time, on the real pipeline (state machine, handlers,
 * emulators; the sandbox as Cliniko), no mocks: a record Cliniko refuses until the fault is
 * cleared is dead-lettered, then redriven into Cliniko once; a 5 MB upload goes through the
 * writer inside its enforced timeout.
 */
const KEY = 'RedriveKey0000000000000000001-au1';
const SCAN_BYTES = 5 * 1024 * 1024;
let sandbox: Sandbox;
let faultOn = true;
let dir = '';
let options: Parameters<typeof runLocal>[0];
let first: LocalRunResult;
let redriven: LocalRunResult;
let again: LocalRunResult;
let patientsAfterFault: string[] = [];
const scan = randomBytes(SCAN_BYTES);

beforeAll(async () => {
  sandbox = await clinicSandbox(KEY, {
    maxAttachmentBytes: 50 * 1024 * 1024,
    // Cliniko down for one patient's create until the fault is cleared
    alwaysFail: (method, path, body) =>
      faultOn &&
      method === 'POST' &&
      path === '/v1/patients' &&
      (body as { old_reference_id?: string })?.old_reference_id === 'C2'
        ? 503
        : false,
  });
  dir = await tempDir('redrive-');
  const zip = await writeZip({
    ...BASE,
    'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee', 'C2,Bo,Chan'),
    'Uploads.csv': csv(
      'UploadId,ClientId,FilePath,UploadDate,ContentType',
      'U1,C1,Uploads/scan.pdf,2024-03-01,application/pdf',
    ),
    'Uploads/scan.pdf': scan,
  });
  options = {
    exportZip: zip,
    mode: 'live',
    credentials: { apiKeys: [KEY], baseUrl: sandbox.baseUrl },
    rateLimitPerMinute: 100_000,
    statePath: join(dir, 'state'),
    visibilityTimeoutSeconds: 1,
    clinikoRetry: { maxAttempts: 2, baseDelayMs: 5 },
  };
  const out = (runId: string) => join(dir, 'out', runId);
  first = await runLocal(options, out);
  patientsAfterFault = sandbox.state.all('patients').map((p) => String(p.old_reference_id));
  faultOn = false;
  redriven = await runLocal(
    { ...options, redrive: { runId: first.runId, bodies: first.deadLetterBodies ?? [] } },
    out,
  );
  // the same redrive once more, as an operator repeating the command would
  again = await runLocal(
    { ...options, redrive: { runId: first.runId, bodies: first.deadLetterBodies ?? [] } },
    out,
  );
}, 300_000);

afterAll(async () => {
  await sandbox?.close();
});

describe('redrive after a fault', () => {
  it('dead-letters the record Cliniko kept refusing, and keeps its command for a redrive', () => {
    expect(first.deadLetters).toBe(1);
    expect(first.deadLetterBodies).toHaveLength(1);
    expect(first.report.entities.patients).toMatchObject({ created: 1, failed: 1 });
    expect(first.report.problems.filter((p) => p.code === 'DEAD_LETTERED').map((p) => p.sourceId)).toEqual([
      'C2',
    ]);
    expect(patientsAfterFault).toEqual(['C1']);
  });

  it('writes it once the fault is cleared, and the remade report counts it written', () => {
    expect(redriven.runId).toBe(first.runId);
    expect(redriven.deadLetters).toBe(0);
    expect(redriven.report.entities.patients).toMatchObject({ created: 2, failed: 0 });
    expect(redriven.report.problems.filter((p) => p.code === 'DEAD_LETTERED')).toEqual([]);
    const refs = sandbox.state.all('patients').map((p) => p.old_reference_id);
    expect(refs.sort()).toEqual(['C1', 'C2']);
  });

  it('is idempotent: the same redrive again writes nothing twice', () => {
    expect(again.report.entities.patients).toMatchObject({ created: 2, failed: 0 });
    expect(sandbox.state.all('patients').filter((p) => p.old_reference_id === 'C2')).toHaveLength(1);
  });
});

describe('a 5 MB attachment through the writer', () => {
  it('lands with its exact bytes, within the writer timeout the local runtime enforces', () => {
    const attachments = sandbox.state.all('patient_attachments');
    expect(attachments).toHaveLength(1);
    expect(attachments[0]?.size).toBe(SCAN_BYTES);
    expect(readFileSync(String(attachments[0]?.storage_path)).equals(scan)).toBe(true);
    expect(first.report.entities.fileUploads).toMatchObject({ created: 1, failed: 0 });
    const writer = Object.entries(first.limits?.longestInvocationMs ?? {}).find(([id]) =>
      id.startsWith('Writer'),
    );
    expect(writer).toBeDefined();
    // the writer's configured timeout is 900 s; the upload took a small part of it
    expect(writer?.[1]).toBeGreaterThan(0);
    expect(writer?.[1]).toBeLessThan(900_000);
  });
});
