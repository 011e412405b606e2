import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

/** The repository's root (this file is test/docs/problem-codes.ts). */
export const REPO_ROOT = join(import.meta.dirname, '..', '..');

/** The folders whose code can put a problem in a report. */
const EMITTING_FOLDERS = ['src', 'lambdas', 'apps'] as const;

const CODE = /^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+$/;

/**
 * The methods and functions that make a problem from a code, and the argument that holds it:
 * RowProblems' `error`/`warn`/`skip` (field, code, message), its `add` (severity, field, code,
 * message), and the report's `runProblem` (input, code, field, message).
 */
const CODE_ARGUMENT: Readonly<Record<string, number>> = { error: 1, warn: 1, skip: 1, add: 2, runProblem: 1 };

/** Every `.ts` file under `folder` (relative to the repository), sorted. */
export function sourceFiles(folder: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        if (entry.name !== 'node_modules' && entry.name !== 'generated') walk(path);
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(path);
    }
  };
  walk(join(REPO_ROOT, folder));
  return out.sort();
}

function parse(path: string): ts.SourceFile {
  return ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
}

/**
 * The kinds `failureKind` (src/cliniko/errors.ts) returns, read from its `FailureKind` union: a
 * refused write's code is `CLINIKO_` and the kind in capitals (lambdas/write/write-command.ts).
 */
export function failureKinds(): string[] {
  const file = parse(join(REPO_ROOT, 'src', 'cliniko', 'errors.ts'));
  const kinds: string[] = [];
  file.forEachChild((node) => {
    if (ts.isTypeAliasDeclaration(node) && node.name.text === 'FailureKind' && ts.isUnionTypeNode(node.type))
      for (const member of node.type.types)
        if (ts.isLiteralTypeNode(member) && ts.isStringLiteral(member.literal))
          kinds.push(member.literal.text);
  });
  return kinds;
}

function calleeName(call: ts.CallExpression): string | undefined {
  const callee = call.expression;
  if (ts.isIdentifier(callee)) return callee.text;
  if (ts.isPropertyAccessExpression(callee)) return callee.name.text;
  return undefined;
}

/** `log.warn('…', { code: … })`: a code for the operators' log, not a problem. */
function isLogCall(node: ts.Node | undefined): boolean {
  return (
    node !== undefined &&
    ts.isCallExpression(node) &&
    ts.isPropertyAccessExpression(node.expression) &&
    /^log(ger)?$/i.test(node.expression.expression.getText())
  );
}

/** The codes an expression can evaluate to: its code-like string literals, and `CLINIKO_${kind}`. */
function codesIn(expression: ts.Node, kinds: readonly string[], found: (code: string) => void): void {
  const visit = (node: ts.Node): void => {
    if ((ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) && CODE.test(node.text))
      found(node.text);
    else if (
      ts.isTemplateExpression(node) &&
      node.head.text === 'CLINIKO_' &&
      /failureKind\(/.test(node.getText())
    )
      for (const kind of kinds) found(`CLINIKO_${kind.toUpperCase().replace(/-/g, '_')}`);
    else node.forEachChild(visit);
  };
  visit(expression);
}

/**
 * Every problem code the code under src/, lambdas/ and apps/ can put in a report, each with the
 * files that emit it: a `code:` property of an object (not a log call's), the code argument of
 * the problem makers above, and the write's `CLINIKO_<kind>` codes.
 */
export function emittedProblemCodes(): Map<string, string[]> {
  const kinds = failureKinds();
  const codes = new Map<string, string[]>();
  for (const folder of EMITTING_FOLDERS)
    for (const path of sourceFiles(folder)) {
      const file = parse(path);
      const where = relative(REPO_ROOT, path);
      const found = (code: string): void => {
        const files = codes.get(code) ?? [];
        if (!files.includes(where)) files.push(where);
        codes.set(code, files);
      };
      const visit = (node: ts.Node): void => {
        if (
          ts.isPropertyAssignment(node) &&
          ts.isIdentifier(node.name) &&
          node.name.text === 'code' &&
          !isLogCall(node.parent.parent)
        )
          codesIn(node.initializer, kinds, found);
        if (ts.isCallExpression(node) && !isLogCall(node)) {
          const name = calleeName(node);
          const index = name === undefined ? undefined : CODE_ARGUMENT[name];
          const argument = index === undefined ? undefined : node.arguments[index];
          if (argument) codesIn(argument, kinds, found);
        }
        node.forEachChild(visit);
      };
      visit(file);
    }
  return codes;
}

/** A Markdown file's name in running text or a link: `docs/REPORT.md`, `../README.md`, `REPORT.md#codes`. */
const MD_PATH = /(?:\.{1,2}\/)?[A-Za-z0-9_][A-Za-z0-9_./-]*\.md\b/g;
const URL = /\b[a-z][a-z0-9+.-]*:\/\/[^\s)>\]"'`]*/gi;

/** The Markdown files a text names, URLs aside. */
export function markdownPathsIn(text: string): string[] {
  return [...text.replace(URL, ' ').matchAll(MD_PATH)].map((m) => m[0]);
}

/**
 * The text of every string literal in a TypeScript file (template literals by their literal
 * parts): what a user can read in a message, unlike comments.
 */
export function stringLiterals(path: string): string[] {
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (
      ts.isStringLiteral(node) ||
      ts.isNoSubstitutionTemplateLiteral(node) ||
      ts.isTemplateHead(node) ||
      ts.isTemplateMiddle(node) ||
      ts.isTemplateTail(node)
    )
      out.push(node.text);
    node.forEachChild(visit);
  };
  visit(parse(path));
  return out;
}

/**
 * The Markdown files `text` names that are not in the repository: a name is found when it
 * resolves from the repository's root or from `folder` (the naming document's folder, relative to
 * the root), an anchor (`#…`) aside.
 */
export function missingMarkdownPaths(text: string, folder: string): string[] {
  const exists = (name: string): boolean =>
    [REPO_ROOT, join(REPO_ROOT, folder)].some((base) => existsSync(join(base, name)));
  return [...new Set(markdownPathsIn(text))].filter((name) => !exists(name));
}

/**
 * The codes docs/REPORT.md documents: the backquoted codes in the first cell of each table row
 * under its "Problem codes" heading.
 */
export function documentedProblemCodes(report: string): Set<string> {
  const start = report.indexOf('\n## Problem codes');
  if (start < 0) throw new Error('docs/REPORT.md has no "## Problem codes" section');
  const next = report.indexOf('\n## ', start + 1);
  const section = report.slice(start, next < 0 ? undefined : next);
  const codes = new Set<string>();
  for (const line of section.split('\n')) {
    const first = /^\|([^|]*)\|/.exec(line)?.[1] ?? '';
    for (const m of first.matchAll(/`([^`]+)`/g)) if (m[1] && CODE.test(m[1])) codes.add(m[1]);
  }
  return codes;
}
