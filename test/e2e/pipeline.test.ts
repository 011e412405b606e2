import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { Context, SQSEvent } from 'aws-lambda';
import { generateExport, sandboxSeedForGenerated } from '../../apps/generate/generate-export.js';
import { type LocalRunResult, runLocal, type WriterHandler } from '../../apps/local/run-local.js';
import { parseFaults } from '../../apps/sandbox/faults.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { startSandbox } from '../../apps/sandbox/server.js';
import { ClinikoClient } from '../../src/cliniko/client.js';
import { accountedFor, ENTITY_KEYS } from '../../src/core/entities.js';
import { printable } from '../../src/documents/notes-pdf.js';
import { isLeaseMarker } from '../../src/lease/account-lease.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';
import { openArchive } from '../../src/source/archive.js';
import { csvRecordsOf } from '../support/exports.js';
import { pdfPages, squeeze } from '../support/pdf-text.js';

/**
 * The real state-machine definition, the real handlers, local emulators and a faulty sandbox:
 * 5xx, 429 and dropped connections from Cliniko, a writer that crashes between Cliniko's answer
 * and its own status write, and one record Cliniko refuses every time.
 */
const KEY = 'EndToEndKey0000000000000000001-au1';
/** ClinicalNotes.csv columns that are not sections (headers as csvRecords folds them). */
const NOTE_COLUMNS = new Set([
  'noteid',
  'clientid',
  'notedate',
  'practitionerid',
  'appointmentid',
  'conditionid',
  'notetype',
  'assessmenttype',
]);
const UNWRITABLE = 'C7';

let sandbox: Sandbox;
let exportZip: string;
let statePath: string;
let first: LocalRunResult;
let second: LocalRunResult;
let crashed = 0;

/** Does the create Cliniko-side, then dies before telling the status table: the message comes back. */
function crashAfterClinikoAnswers(real: WriterHandler, client: ClinikoClient): WriterHandler {
  const crashedIds = new Set<string>();
  return async (event: SQSEvent, context: Context) => {
    const victim = event.Records.find((r) => {
      const cmd = JSON.parse(r.body) as WriteCommand;
      return (
        cmd.payload.kind === 'patient' &&
        Number(cmd.sourceId.slice(1)) % 9 === 0 &&
        !crashedIds.has(cmd.sourceId)
      );
    });
    if (!victim) return real(event, context);
    const cmd = JSON.parse(victim.body) as WriteCommand;
    crashedIds.add(cmd.sourceId);
    if (cmd.payload.kind === 'patient') await client.createPatient(cmd.payload.body);
    crashed++;
    throw new Error('writer crashed after Cliniko answered');
  };
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'e2e-'));
  exportZip = join(dir, 'export.zip');
  statePath = join(dir, 'state');
  await generateExport(exportZip, { patients: 45, appointmentsPerPatient: 5, seed: 21 });
  sandbox = await startSandbox({
    rateLimit: 100_000,
    faults: parseFaults('5xx=0.05,429=0.03,drop-after-commit=0.05'),
    faultSeed: 4,
    injected429ResetMs: 10,
    seed: sandboxSeedForGenerated(KEY),
    // one patient Cliniko never accepts: it must end in the dead-letter queue and the report
    alwaysFail: (method, path, body) =>
      method === 'POST' &&
      path === '/v1/patients' &&
      (body as { old_reference_id?: string })?.old_reference_id === UNWRITABLE,
  });
  const direct = new ClinikoClient({
    apiKey: KEY,
    baseUrl: sandbox.baseUrl,
    retry: { baseDelayMs: 5, maxDelayMs: 20, maxAttempts: 8 },
  });
  const options = {
    exportZip,
    mode: 'live' as const,
    credentials: { apiKeys: [KEY], baseUrl: sandbox.baseUrl },
    rateLimitPerMinute: 100_000,
    statePath,
    visibilityTimeoutSeconds: 1,
    clinikoRetry: { maxAttempts: 4, baseDelayMs: 10 },
    batchSize: 50,
  };
  const out = (runId: string) => join(dir, runId);
  first = await runLocal({ ...options, wrapWriter: (h) => crashAfterClinikoAnswers(h, direct) }, out);
  sandbox.faults = parseFaults('');
  second = await runLocal(options, out);
}, 600_000); // two whole runs through faults: generous, since CI shares two cores

afterAll(async () => {
  await sandbox?.close();
});

const csvRecords = (file: string) => csvRecordsOf(exportZip, file);

describe('a live run through faults', () => {
  it('accounts for every source row', async () => {
    expect(ENTITY_KEYS.filter((key) => !accountedFor(first.report.entities[key]))).toEqual([]);
    expect(first.report.entities.patients.source).toBe((await csvRecords('Clients.csv')).length);
    expect(first.report.entities.appointments.source).toBe((await csvRecords('Appointments.csv')).length);
    expect(first.report.entities.patients.created).toBeGreaterThan(30);
    expect(first.report.entities.appointments.created).toBeGreaterThan(150);
  });

  it('really met the faults', () => {
    expect(crashed).toBeGreaterThan(0);
    const byStatus = first.report.cliniko.byStatus;
    expect(byStatus['429']).toBeGreaterThan(0);
    expect(Object.keys(byStatus).some((s) => s.startsWith('5'))).toBe(true);
  });

  it('leaves each record in Cliniko exactly once', () => {
    const patients = sandbox.state.all('patients');
    const refs = patients.map((p) => p.old_reference_id);
    expect(new Set(refs).size).toBe(refs.length);
    expect(patients.length).toBe(first.report.entities.patients.created);
    expect(sandbox.state.count('individual_appointments')).toBe(first.report.entities.appointments.created);
    // each live run's lease marker (archived when it ends) is not one of the clinic's contacts
    const contacts = sandbox.state
      .all('contacts')
      .filter(
        (c) => !isLeaseMarker({ company_name: typeof c.company_name === 'string' ? c.company_name : null }),
      );
    expect(contacts).toHaveLength(first.report.entities.contacts.created);
    // the export's types plus "Migrated appointment", once
    expect(sandbox.state.count('appointment_types')).toBe(first.report.entities.appointmentTypes.created + 1);
    const alertKeys = sandbox.state.all('medical_alerts').map((a) => `${a.patient_id}|${a.name}`);
    expect(new Set(alertKeys).size).toBe(alertKeys.length);
  });

  it('lands every letter and upload once, on its patient, with the exported bytes', async () => {
    const attachments = sandbox.state
      .all('patient_attachments')
      .filter((a) => !String(a.description).startsWith('Clinical notes'));
    const written = first.report.entities.letters.created + first.report.entities.fileUploads.created;
    expect(written).toBeGreaterThan(5);
    expect(attachments).toHaveLength(written);
    const keys = attachments.map((a) => `${a.patient_id}|${a.description}`);
    expect(new Set(keys).size).toBe(keys.length);
    const letter = attachments.find((a) => String(a.description).includes('[Letter LT1]'));
    expect(letter?.storage_path).toBeTruthy();
    const archive = await openArchive(exportZip);
    const entry = archive.find('Letters/letter-1.pdf');
    const chunks: Buffer[] = [];
    if (entry) for await (const c of await archive.open(entry.path)) chunks.push(c as Buffer);
    await archive.close();
    expect(readFileSync(String(letter?.storage_path)).equals(Buffer.concat(chunks))).toBe(true);
  });

  it("puts every note in its patient's one notes PDF, where its text can be found", async () => {
    const created = first.report.entities.clinicalNotes.created;
    expect(created).toBeGreaterThan(20);
    const patientIds = new Map(
      sandbox.state.all('patients').map((p) => [String(p.old_reference_id), String(p.id)]),
    );
    const pdfs = new Map<string, string>();
    for (const a of sandbox.state.all('patient_attachments')) {
      if (!String(a.description).startsWith('Clinical notes')) continue;
      // one notes PDF per patient
      expect({ patient: String(a.patient_id), seenBefore: pdfs.has(String(a.patient_id)) }).toEqual({
        patient: String(a.patient_id),
        seenBefore: false,
      });
      pdfs.set(String(a.patient_id), String(a.storage_path));
    }
    const refused = new Set(
      first.report.problems
        .filter((p) => p.entity === 'clinicalNotes' && p.severity === 'error')
        .map((p) => p.sourceId),
    );
    const texts = new Map<string, string>();
    const seen = new Set<string>();
    let checked = 0;
    for (const note of await csvRecords('ClinicalNotes.csv')) {
      const id = note.noteid ?? '';
      if (seen.has(id) || refused.has(id)) continue;
      seen.add(id);
      const patientId = patientIds.get(note.clientid ?? '');
      if (!patientId) continue;
      const path = pdfs.get(patientId);
      expect({ client: note.clientid, path }).toEqual({ client: note.clientid, path: expect.any(String) });
      let text = texts.get(patientId);
      if (text === undefined) {
        text = squeeze((await pdfPages(readFileSync(String(path)))).join('\n'));
        texts.set(patientId, text);
      }
      expect({ note: id, inItsPatientsPdf: text.includes(`Note${id}`) }).toEqual({
        note: id,
        inItsPatientsPdf: true,
      });
      for (const [column, value] of Object.entries(note))
        if (!NOTE_COLUMNS.has(column) && value.trim())
          expect({ note: id, column, inPdf: text.includes(squeeze(printable(value))) }).toEqual({
            note: id,
            column,
            inPdf: true,
          });
      checked++;
    }
    expect(checked).toBe(created);
  });

  it('sends a record that keeps failing to the dead-letter queue and reports it as failed, with its reason', () => {
    expect(first.deadLetters).toBeGreaterThanOrEqual(1);
    expect(first.report.entities.patients.failed).toBeGreaterThanOrEqual(1);
    const problem = first.report.problems.find(
      (p) => p.sourceId === UNWRITABLE && p.code === 'DEAD_LETTERED',
    );
    // The sandbox always answers this patient 503, but its random 5xx faults are drawn before that
    // (500, 502, 503 or 504): whichever answered the last attempt is the reason. Expecting 503 alone
    // failed about one run in four.
    expect(problem?.message).toMatch(/last error: .*\b50[0234]\b/);
    expect(sandbox.state.all('patients').some((p) => p.old_reference_id === UNWRITABLE)).toBe(false);
  });

  it('creates nothing when the same export runs again', () => {
    const created = ENTITY_KEYS.reduce((n, k) => n + second.report.entities[k].created, 0);
    expect(created).toBe(0);
    expect(second.report.entities.patients.alreadyPresent).toBe(first.report.entities.patients.created);
    expect(second.report.entities.appointments.alreadyPresent).toBe(
      first.report.entities.appointments.created,
    );
    expect(sandbox.state.count('patients')).toBe(first.report.entities.patients.created);
    expect(sandbox.state.count('individual_appointments')).toBe(first.report.entities.appointments.created);
    expect(second.report.entities.clinicalNotes.alreadyPresent).toBe(
      first.report.entities.clinicalNotes.created,
    );
    const notesPdfs = sandbox.state
      .all('patient_attachments')
      .filter((a) => String(a.description).startsWith('Clinical notes')).length;
    expect(notesPdfs).toBeGreaterThan(10);
    expect(sandbox.state.count('patient_attachments')).toBe(
      first.report.entities.letters.created + first.report.entities.fileUploads.created + notesPdfs,
    );
  });
});
