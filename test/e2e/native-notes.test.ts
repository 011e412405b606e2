import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type LocalRunResult, runLocal } from '../../apps/local/run-local.js';
import type { Sandbox } from '../../apps/sandbox/server.js';
import { startSandbox } from '../../apps/sandbox/server.js';
import { tempDir } from '../support/exports.js';
import { NATIVE_KEYS, nativeNotesExport, nativeSeed, sectionsOf } from '../support/native-notes.js';

/**
 * `"clinicalNotes": "native"` with one key per practitioner: each note becomes a finalised
 * treatment note on its appointment, authored by its own practitioner (the key's), with every
 * section's text; a former practitioner without a key follows `notesWithoutAuthorKey` (default
 * `pdf`: the patient's notes PDF); a second run of the same export creates nothing.
 */
const { admin: ADMIN, hana: HANA, tom: TOM } = NATIVE_KEYS;
let sandbox: Sandbox;
let first: LocalRunResult;
let second: LocalRunResult;

beforeAll(async () => {
  sandbox = await startSandbox({
    rateLimit: 100_000,
    attachmentProcessingMs: 10,
    seed: nativeSeed,
  });
  const dir = await tempDir('native-notes-');
  const config = join(dir, 'migration.json');
  writeFileSync(config, JSON.stringify({ clinicalNotes: 'native', markArrivals: 'all' }));
  const zip = await nativeNotesExport();
  const options = {
    exportZip: zip,
    configJson: config,
    mode: 'live' as const,
    credentials: { apiKeys: [ADMIN, HANA, TOM], baseUrl: sandbox.baseUrl },
    rateLimitPerMinute: 100_000,
    visibilityTimeoutSeconds: 1,
    statePath: join(dir, 'status-table'),
  };
  first = await runLocal(options, (runId) => join(dir, runId));
  second = await runLocal(options, (runId) => join(dir, runId));
}, 180_000);

afterAll(async () => {
  await sandbox?.close();
});

const notes = () => sandbox.state.all('treatment_notes');
const practitionerNamed = (first: string) =>
  String(sandbox.state.all('practitioners').find((p) => p.first_name === first)?.id);
const patientOf = (ref: string) =>
  String(sandbox.state.all('patients').find((p) => p.old_reference_id === ref)?.id);
describe('native treatment notes', () => {
  it('writes one finalised note per note with a key, under its own practitioner, on its appointment', () => {
    expect(first.report.entities.clinicalNotes).toMatchObject({ source: 3, created: 3, failed: 0 });
    expect(notes()).toHaveLength(2);
    const n1 = notes().find((n) => String(n.title).endsWith('[Note N1]'));
    const n2 = notes().find((n) => String(n.title).endsWith('[Note N2]'));
    expect(n1).toMatchObject({
      title: 'Initial Assessment, 1 Mar 2024 [Note N1]',
      draft: false,
      practitioner_id: practitionerNamed('Hana'),
      author_name: 'Hana Ruru',
      patient_id: patientOf('C1'),
    });
    expect(n1?.finalized_at).toBeTruthy();
    const a1 = sandbox.state
      .all('individual_appointments')
      .find((a) => a.patient_id === patientOf('C1') && String(a.starts_at).startsWith('2024-02-29T20:00'));
    expect(n1?.booking_id).toBe(a1?.id);
    // "markArrivals": "all": the completed appointment's attendee is marked arrived, the booked one not
    expect(a1?.patient_arrived).toBe(true);
    expect(
      sandbox.state.all('individual_appointments').filter((a) => a.patient_arrived === true),
    ).toHaveLength(1);
    expect(n2).toMatchObject({ practitioner_id: practitionerNamed('Tom'), author_name: 'Tom Vea' });
    expect(n2?.booking_id).toBeTruthy();
  });

  it("keeps every section's text, line breaks and < > & included", () => {
    const n1 = notes().find((n) => String(n.title).endsWith('[Note N1]')) ?? {};
    expect(sectionsOf(n1)).toEqual({
      Subjective: 'Left knee pain, 3 weeks.\nWorse on stairs.',
      Objective: 'ROM <90° & swelling',
      Plan: 'Ice and rest',
    });
    const n2 = notes().find((n) => String(n.title).endsWith('[Note N2]')) ?? {};
    expect(sectionsOf(n2)).toEqual({ Subjective: 'Shoulder stiff', Exercises: 'Band rows 3x10' });
  });

  it('bases each note on its assessment type template, created once with that type’s columns', () => {
    const templates = sandbox.state.all('treatment_note_templates');
    expect(templates.map((t) => t.name).sort()).toEqual(['Rehab', 'SOAP']);
    const soap = templates.find((t) => t.name === 'SOAP');
    expect(
      (soap?.content as { sections: { name: string }[] } | undefined)?.sections.map((s) => s.name),
    ).toEqual(['Subjective', 'Objective', 'Plan']);
    const n1 = notes().find((n) => String(n.title).endsWith('[Note N1]'));
    expect(n1?.treatment_note_template_id).toBe(soap?.id);
  });

  it("puts a note whose practitioner has no key into the patient's notes PDF (the default)", () => {
    const attachments = sandbox.state.all('patient_attachments');
    expect(attachments).toHaveLength(1);
    expect(attachments[0]?.patient_id).toBe(patientOf('C1'));
    expect(String(attachments[0]?.description)).toMatch(/^Clinical notes, 10 Mar 2024 \(1 note\)/);
    expect(
      first.report.problems.filter((p) => p.code === 'NOTE_AUTHOR_HAS_NO_KEY').map((p) => p.sourceId),
    ).toEqual(['N3']);
  });

  it('a second run of the same export creates nothing', () => {
    expect(second.report.entities.clinicalNotes).toMatchObject({ source: 3, created: 0, alreadyPresent: 3 });
    expect(notes()).toHaveLength(2);
    expect(sandbox.state.all('treatment_note_templates')).toHaveLength(2);
    expect(sandbox.state.all('patient_attachments')).toHaveLength(1);
  });
});
