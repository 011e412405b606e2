import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { type Sandbox, startSandbox } from '../../apps/sandbox/server.js';
import type { RunReport } from '../../src/report/run-report.js';
import { cli } from '../support/cli.js';
import { tempDir } from '../support/exports.js';
import { NATIVE_KEYS, nativeNotesExport, nativeSeed, sectionsOf } from '../support/native-notes.js';

/**
 * Native notes through the CLI as a clinic runs them (issue 16): a note whose practitioner has no
 * key follows `notesWithoutAuthorKey` (`any-key`: written natively under another practitioner with
 * a "Written by" first line; `skip`: not written, reported), and rollback archives the treatment
 * notes a run created. Each setting runs against its own Cliniko account (sandbox).
 */
const sandboxes: Sandbox[] = [];
let zip: string;
let work: string;

async function liveRun(name: string, settings: Record<string, string>) {
  const sandbox = await startSandbox({ rateLimit: 100_000, attachmentProcessingMs: 10, seed: nativeSeed });
  sandboxes.push(sandbox);
  const config = join(work, `${name}.json`);
  writeFileSync(config, JSON.stringify({ clinicalNotes: 'native', ...settings }));
  const out = join(work, name);
  const stateDir = join(work, `${name}-state`);
  const result = await cli(
    'run',
    zip,
    '--mode',
    'live',
    '--config',
    config,
    '--cliniko-url',
    sandbox.baseUrl,
    '--state-dir',
    stateDir,
    '--out',
    out,
  );
  const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as RunReport;
  return { sandbox, result, report, stateDir };
}

const notesOf = (s: Sandbox) => s.state.all('treatment_notes');
const noteTitled = (s: Sandbox, id: string) =>
  notesOf(s).find((n) => String(n.title).endsWith(`[Note ${id}]`));
const practitioner = (s: Sandbox, first: string) =>
  String(s.state.all('practitioners').find((p) => p.first_name === first)?.id);

beforeAll(async () => {
  process.env.CLINIKO_API_KEYS = Object.values(NATIVE_KEYS).join(',');
  work = await tempDir('native-without-key-');
  zip = await nativeNotesExport();
});

afterAll(async () => {
  delete process.env.CLINIKO_API_KEYS;
  for (const s of sandboxes) await s.close();
});

describe('notesWithoutAuthorKey', () => {
  it('"any-key" writes the former practitioner\'s note natively under a keyed practitioner, saying who wrote it; rollback archives every note', async () => {
    const { sandbox, result, report, stateDir } = await liveRun('any-key', {
      notesWithoutAuthorKey: 'any-key',
    });
    expect(result.code).toBe(0);
    expect(report.entities.clinicalNotes).toMatchObject({ source: 3, created: 3, failed: 0 });
    expect(notesOf(sandbox)).toHaveLength(3);
    // no PDF bundle: every note is a treatment note
    expect(sandbox.state.all('patient_attachments')).toHaveLength(0);
    const n3 = noteTitled(sandbox, 'N3');
    expect([practitioner(sandbox, 'Hana'), practitioner(sandbox, 'Tom')]).toContain(
      String(n3?.practitioner_id),
    );
    expect(n3?.draft).toBe(false);
    const [firstSection] = Object.values(sectionsOf(n3 ?? {}));
    expect(firstSection).toBe('Written by Wiremu Former on 10 Mar 2024\nOld note by a former practitioner');
    // the notes with a key stay under their own authors
    expect(noteTitled(sandbox, 'N1')?.practitioner_id).toBe(practitioner(sandbox, 'Hana'));
    expect(noteTitled(sandbox, 'N2')?.practitioner_id).toBe(practitioner(sandbox, 'Tom'));

    const rollback = await cli(
      'rollback',
      report.runId,
      '--state-dir',
      stateDir,
      '--cliniko-url',
      sandbox.baseUrl,
    );
    expect(rollback.code).toBe(0);
    expect(notesOf(sandbox)).toHaveLength(3);
    expect(notesOf(sandbox).filter((n) => !n.archived_at)).toHaveLength(0);
    expect(sandbox.state.count('patients', (p) => !p.archived_at)).toBe(0);
  }, 300_000);

  it('"skip" leaves the note out and reports it; the keyed notes are written', async () => {
    const { sandbox, result, report } = await liveRun('skip', { notesWithoutAuthorKey: 'skip' });
    expect(result.code).toBe(0);
    expect(
      notesOf(sandbox)
        .map((n) => String(n.title).slice(-9))
        .sort(),
    ).toEqual(['[Note N1]', '[Note N2]']);
    expect(sandbox.state.all('patient_attachments')).toHaveLength(0);
    expect(report.entities.clinicalNotes).toMatchObject({ source: 3, created: 2, failed: 0 });
    const reported = report.problems.filter((p) => p.code === 'NOTE_AUTHOR_HAS_NO_KEY');
    expect(reported.map((p) => [p.sourceId, p.file])).toEqual([['N3', 'ClinicalNotes.csv']]);
    expect(reported[0]?.message).toContain('notesWithoutAuthorKey');
  }, 300_000);
});
