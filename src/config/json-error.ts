/**
 * Where a JSON text first goes wrong, for an operator who edits `migration.json` by hand. Node 20's
 * `JSON.parse` names a position for some mistakes ("… in JSON at position 20") but not for others
 * (`Unexpected token '}', "…whole text…" is not valid JSON`), and never a line, so the text is
 * scanned again here by the grammar of RFC 8259 to find the first character it refuses.
 */
export interface JsonErrorPlace {
  /** UTF-16 offset of the refused character (the text's length when it ends too soon). */
  readonly offset: number;
  /** 1-based line; a line ends at LF, CRLF or a lone CR. */
  readonly line: number;
  /** 1-based column, in characters (a character outside the BMP counts once). */
  readonly column: number;
  /** What was wrong there, in a few words: `unexpected "}"`, `the file ends inside a string`. */
  readonly reason: string;
}

/** 1-based line and column of a UTF-16 offset in `text`. */
export function lineAndColumn(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(Math.max(offset, 0), text.length);
  for (let i = 0; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x0a || (c === 0x0d && text.charCodeAt(i + 1) !== 0x0a)) {
      line++;
      lineStart = i + 1;
    }
  }
  // Characters, not UTF-16 units, as an editor counts them: an emoji in a name is one column.
  return { line, column: [...text.slice(lineStart, end)].length + 1 };
}

class Refused extends Error {
  constructor(
    readonly offset: number,
    readonly reason: string,
  ) {
    super(reason);
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);

/** A character as the message shows it: printable as itself, else its code point. */
function shown(c: string): string {
  const code = c.codePointAt(0) ?? 0;
  return code < 0x20 || code === 0x7f || code === 0xfeff
    ? `U+${code.toString(16).toUpperCase().padStart(4, '0')}`
    : `"${c}"`;
}

function scan(text: string): void {
  let i = 0;
  const skip = () => {
    while (i < text.length && WHITESPACE.has(text[i] ?? '')) i++;
  };
  const refuse = (expected: string): never => {
    if (i >= text.length) throw new Refused(i, `the file ends where ${expected} should be`);
    throw new Refused(
      i,
      `unexpected ${shown(String.fromCodePoint(text.codePointAt(i) ?? 0))}, expected ${expected}`,
    );
  };
  const digits = () => {
    const from = i;
    while (i < text.length && /[0-9]/.test(text[i] ?? '')) i++;
    return i - from;
  };
  const string = () => {
    i++; // the opening quote
    for (;;) {
      if (i >= text.length) throw new Refused(i, 'the file ends inside a string (a closing " is missing)');
      const c = text[i] ?? '';
      if (c === '"') {
        i++;
        return;
      }
      if (c.charCodeAt(0) < 0x20)
        throw new Refused(i, `${shown(c)} inside a string (a line break in a value must be written \\n)`);
      if (c === '\\') {
        const e = text[i + 1] ?? '';
        if (ESCAPES.has(e)) i += 2;
        else if (e === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 2, i + 6))) i += 6;
        else {
          i++;
          refuse('an escape such as \\" \\\\ \\n or \\u00e9 after the backslash');
        }
      } else i++;
    }
  };
  const number = () => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else if (!digits()) refuse('a digit');
    if (text[i] === '.') {
      i++;
      if (!digits()) refuse('a digit after the decimal point');
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      if (!digits()) refuse("a digit in the number's exponent");
    }
  };
  const value = (): void => {
    skip();
    const c = text[i];
    if (c === '{') {
      i++;
      skip();
      if (text[i] === '}') {
        i++;
        return;
      }
      for (;;) {
        skip();
        if (text[i] !== '"') refuse('a field name in double quotes');
        string();
        skip();
        if (text[i] !== ':') refuse('":" after the field name');
        i++;
        value();
        skip();
        if (text[i] === ',') {
          const comma = i++;
          skip();
          // A trailing comma is the commonest slip; say so rather than "expected a field name".
          if (text[i] === '}') throw new Refused(comma, 'a comma before "}" (JSON allows no trailing comma)');
          continue;
        }
        if (text[i] === '}') {
          i++;
          return;
        }
        refuse('"," or "}"');
      }
    }
    if (c === '[') {
      i++;
      skip();
      if (text[i] === ']') {
        i++;
        return;
      }
      for (;;) {
        value();
        skip();
        if (text[i] === ',') {
          const comma = i++;
          skip();
          if (text[i] === ']') throw new Refused(comma, 'a comma before "]" (JSON allows no trailing comma)');
          continue;
        }
        if (text[i] === ']') {
          i++;
          return;
        }
        refuse('"," or "]"');
      }
    }
    if (c === '"') {
      string();
      return;
    }
    if (c === '-' || (c !== undefined && /[0-9]/.test(c))) {
      number();
      return;
    }
    for (const word of ['true', 'false', 'null']) {
      if (text.startsWith(word, i)) {
        i += word.length;
        return;
      }
    }
    refuse('a value');
  };
  value();
  skip();
  if (i < text.length) refuse('nothing more after the value');
}

/**
 * The first place `text` breaks JSON's grammar (RFC 8259), or undefined when it is valid JSON
 * (then `JSON.parse` accepts it too) or nested too deep to scan. A trailing comma is placed on the
 * comma itself, where JSON.parse names the character after it.
 */
export function jsonErrorPlace(text: string): JsonErrorPlace | undefined {
  try {
    scan(text);
    return undefined;
  } catch (err) {
    // Nesting deep enough to exhaust the stack (JSON.parse has no such limit): no place, and the
    // caller falls back on JSON.parse's own position.
    if (err instanceof RangeError) return undefined;
    if (!(err instanceof Refused)) throw err;
    return { offset: err.offset, ...lineAndColumn(text, err.offset), reason: err.reason };
  }
}
