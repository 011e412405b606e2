import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import {
  documentedProblemCodes,
  emittedProblemCodes,
  failureKinds,
  markdownPathsIn,
  missingMarkdownPaths,
  REPO_ROOT,
  sourceFiles,
  stringLiterals,
} from './problem-codes.js';

const REPORT_DOC = join(REPO_ROOT, 'docs', 'REPORT.md');

describe('docs/REPORT.md documents every problem code', () => {
  const emitted = emittedProblemCodes();
  const documented = documentedProblemCodes(readFileSync(REPORT_DOC, 'utf8'));

  it('finds the codes of each way a problem is made', () => {
    // One code per way, so a change that hides a way from the scan fails here, not silently:
    // RowProblems (`p.error(field, code, …)`), a `code:` property, the report's runProblem, and a
    // refused write's `CLINIKO_<kind>`.
    expect(emitted.get('REQUIRED_MISSING')).toContain('src/translate/row-reader.ts');
    expect(emitted.get('SPACE_NORMALISED')).toContain('src/translate/row-reader.ts');
    expect(emitted.get('MISSING_COLUMN')).toContain('src/source/split-table.ts');
    expect(emitted.get('PREFLIGHT_FAILED')).toContain('lambdas/report/report.ts');
    expect(failureKinds().length).toBeGreaterThan(0);
    for (const kind of failureKinds())
      expect(emitted.get(`CLINIKO_${kind.toUpperCase().replace(/-/g, '_')}`)).toContain(
        'lambdas/write/write-command.ts',
      );
    // A code only logged for operators never reaches a report.
    expect(emitted.has('MALFORMED_WRITE_MESSAGE')).toBe(false);
  });

  it('has an entry for every code the code can emit', () => {
    const missing = [...emitted]
      .filter(([code]) => !documented.has(code))
      .map(([code, files]) => `${code} (${files.join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('documents no code that nothing emits any more', () => {
    expect([...documented].filter((code) => !emitted.has(code))).toEqual([]);
  });
});

describe('Markdown files named in the docs and in messages exist', () => {
  it('tells a missing file from a present one, URLs aside', () => {
    const text =
      'See [the report](REPORT.md#codes), docs/NOT-THERE.md, ../README.md and https://example.com/GONE.md.';
    expect(markdownPathsIn(text)).toEqual(['REPORT.md', 'docs/NOT-THERE.md', '../README.md']);
    expect(missingMarkdownPaths(text, 'docs')).toEqual(['docs/NOT-THERE.md']);
    expect(missingMarkdownPaths(text, '.')).toEqual(['REPORT.md', 'docs/NOT-THERE.md', '../README.md']);
  });

  it('in README.md and docs/*.md', () => {
    const docs = [
      'README.md',
      ...readdirSync(join(REPO_ROOT, 'docs'))
        .filter((name) => name.endsWith('.md'))
        .map((name) => `docs/${name}`),
    ];
    const missing = docs.flatMap((doc) =>
      missingMarkdownPaths(readFileSync(join(REPO_ROOT, doc), 'utf8'), join(doc, '..')).map(
        (name) => `${doc}: ${name}`,
      ),
    );
    expect(missing).toEqual([]);
  });

  it('in the string literals of apps/, src/ and lambdas/ (a user reads them; comments aside)', () => {
    const missing = ['apps', 'src', 'lambdas'].flatMap((folder) =>
      sourceFiles(folder).flatMap((path) =>
        stringLiterals(path).flatMap((text) =>
          missingMarkdownPaths(text, '.').map((name) => `${relative(REPO_ROOT, path)}: ${name}`),
        ),
      ),
    );
    expect(missing).toEqual([]);
  });

  it('in the code and its comments, a document a reader is sent to', () => {
    const missing = ['apps', 'src', 'lambdas', 'lib', 'bin', 'bench', 'tools'].flatMap((folder) =>
      sourceFiles(folder).flatMap((path) =>
        missingMarkdownPaths(readFileSync(path, 'utf8'), relative(REPO_ROOT, dirname(path))).map(
          (name) => `${relative(REPO_ROOT, path)}: ${name}`,
        ),
      ),
    );
    expect(missing).toEqual([]);
  });
});
