import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalRunResult, runLocal } from '../../apps/local/run-local.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { BASE, csv, tempDir, writeZip } from '../support/exports.js';
import { pdfPages, squeeze } from '../support/pdf-text.js';
import { clinicSandbox } from '../support/sandbox.js';

/** `"clinicalNotes": "pdf-per-note"`: one attachment per note, each holding its note's text. */
const KEY = 'PerNoteKey000000000000000000001-au1';
let sandbox: Sandbox;
let result: LocalRunResult;

beforeAll(async () => {
  sandbox = await clinicSandbox(KEY);
  const dir = await tempDir('per-note-');
  const config = join(dir, 'migration.json');
  writeFileSync(config, JSON.stringify({ clinicalNotes: 'pdf-per-note' }));
  const zip = await writeZip({
    ...BASE,
    'Clients.csv': csv('ClientId,FirstName,LastName', 'C1,Ann,Lee', 'C2,Bo,Chan'),
    'ClinicalNotes.csv': csv(
      'NoteId,ClientId,NoteDate,PractitionerId,NoteType,Subjective,Plan',
      'N1,C1,01/03/2024,P1,Initial Assessment,"Left knee pain, 3 weeks.",Ice and rest',
      'N2,C1,08/03/2024,P1,Treatment,"Better; 王 says ROM 0–110°",Continue',
      'N3,C2,09/03/2024,P1,Treatment,Shoulder stiff,',
    ),
  });
  result = await runLocal(
    {
      exportZip: zip,
      configJson: config,
      mode: 'live',
      credentials: { apiKeys: [KEY], baseUrl: sandbox.baseUrl },
      rateLimitPerMinute: 100_000,
      visibilityTimeoutSeconds: 1,
    },
    (runId) => join(dir, runId),
  );
}, 120_000);

afterAll(async () => {
  await sandbox?.close();
});

describe('one PDF per note', () => {
  it('writes each note as its own attachment on its patient, with its text', async () => {
    expect(result.report.entities.clinicalNotes).toMatchObject({ source: 3, created: 3, failed: 0 });
    const attachments = sandbox.state.all('patient_attachments');
    expect(attachments).toHaveLength(3);
    const patients = new Map(
      sandbox.state.all('patients').map((p) => [String(p.id), String(p.old_reference_id)]),
    );
    const n2 = attachments.find((a) => String(a.description).endsWith('[Note N2]'));
    expect(n2?.description).toBe('2024-03-08 Treatment [Note N2]');
    expect(patients.get(String(n2?.patient_id))).toBe('C1');
    const text = squeeze((await pdfPages(readFileSync(String(n2?.storage_path)))).join(''));
    expect(text).toContain(squeeze('Better; 王 says ROM 0–110°'));
    expect(text).toContain('Continue');
    expect(text).not.toContain('Leftkneepain');
    expect(text).toContain(squeeze('Practitioner: Hana Ruru'));
  });
});
