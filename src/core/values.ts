/**
 * Parsing of source values. Every parser returns either a value or the reason it could not, so
 * the caller can report the file, row, field and code.
 */
export type DateOrder = 'dmy' | 'mdy' | 'ymd';

export interface LocalDate {
  readonly year: number;
  readonly month: number;
  readonly day: number;
}

export interface LocalTime {
  readonly hour: number;
  readonly minute: number;
  readonly second: number;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const fail = <T>(reason: string): Parsed<T> => ({ ok: false, reason });

function validCalendarDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1 || year < 1800 || year > 2200) return false;
  const d = new Date(Date.UTC(year, month - 1, day));
  return d.getUTCFullYear() === year && d.getUTCMonth() === month - 1 && d.getUTCDate() === day;
}

/** Parses a date in the profile's order (`dd/MM/yyyy` for Gensolve); ISO `yyyy-MM-dd` is always accepted. */
export function parseDate(text: string, order: DateOrder): Parsed<LocalDate> & { first?: number } {
  const t = text.trim();
  const iso = /^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ].*)?$/.exec(t);
  if (iso) {
    const [year, month, day] = [Number(iso[1]), Number(iso[2]), Number(iso[3])];
    return validCalendarDate(year, month, day)
      ? ok({ year, month, day })
      : fail(`"${t}" is not a calendar date`);
  }
  // Real exports write date columns with a time part (`23/10/1964 12:00:00 AM`):
  // docs/EXPORT-FORMAT.md (CSV conventions) says to read the date whatever time follows, as long as
  // what follows is a time.
  const m = /^(\d{1,4})[/.-](\d{1,2})[/.-](\d{1,4})(?:[ T]+(.+))?$/.exec(t);
  if (m?.[4] !== undefined && !parseTime(m[4]).ok)
    return fail(`"${t}" is a date followed by "${m[4]}", which is not a time`);
  if (!m)
    return fail(
      `"${t}" is not a date in ${order === 'dmy' ? 'dd/MM/yyyy' : order === 'mdy' ? 'MM/dd/yyyy' : 'yyyy/MM/dd'} form`,
    );
  const a = Number(m[1]);
  const b = Number(m[2]);
  const c = Number(m[3]);
  let year: number;
  let month: number;
  let day: number;
  if (order === 'ymd') [year, month, day] = [a, b, c];
  else if (order === 'dmy') [day, month, year] = [a, b, c];
  else [month, day, year] = [a, b, c];
  if (String(year).length !== 4) return fail(`"${t}" has no four-digit year`);
  if (month > 12) return fail(`"${t}": month ${month} is over 12 (day and month swapped?)`);
  if (!validCalendarDate(year, month, day)) return fail(`"${t}" is not a calendar date`);
  return { ...ok({ year, month, day }), first: a };
}

export function formatDate(d: LocalDate): string {
  return `${String(d.year).padStart(4, '0')}-${String(d.month).padStart(2, '0')}-${String(d.day).padStart(2, '0')}`;
}

/** `HH:mm`, `HH:mm:ss` (24 h) or `h:mm tt` (`9:30 AM`). */
export function parseTime(text: string): Parsed<LocalTime> {
  const t = text.trim();
  const m = /^(\d{1,2})[:.](\d{2})(?::(\d{2})(?:\.\d{1,7})?)?\s*(?:Z|[AaPp]\.?[Mm]\.?)?$/.exec(t);
  if (!m) return fail(`"${t}" is not a time such as 14:30 or 2:30 PM`);
  let hour = Number(m[1]);
  const minute = Number(m[2]);
  const second = m[3] ? Number(m[3]) : 0;
  const meridiem = /[AaPp]\.?[Mm]\.?$/.exec(t)?.[0].replace(/\./g, '').toLowerCase();
  if (meridiem) {
    if (hour < 1 || hour > 12) return fail(`"${t}": hour ${hour} is not on a 12-hour clock`);
    hour = (hour % 12) + (meridiem === 'pm' ? 12 : 0);
  }
  if (hour > 23 || minute > 59 || second > 59) return fail(`"${t}" is not a time of day`);
  return ok({ hour, minute, second });
}

/** `dd/MM/yyyy HH:mm[:ss]` or `dd/MM/yyyy h:mm tt`; a bare date means midnight. */
export function parseDateTime(text: string, order: DateOrder): Parsed<{ date: LocalDate; time: LocalTime }> {
  const t = text.trim();
  const iso = /^(\d{4}-\d{1,2}-\d{1,2})[T ](\d{1,2}:\d{2}(?::\d{2})?)/.exec(t);
  const m = iso ?? /^(\S+)(?:\s+(.+))?$/.exec(t);
  if (!m?.[1]) return fail(`"${t}" is not a date and time`);
  const date = parseDate(m[1], order);
  if (!date.ok) return fail(date.reason);
  if (!m[2]) return ok({ date: date.value, time: { hour: 0, minute: 0, second: 0 } });
  const time = parseTime(m[2]);
  return time.ok ? ok({ date: date.value, time: time.value }) : fail(time.reason);
}

export function parseBoolean(
  text: string,
  words: { true: readonly string[]; false: readonly string[] },
): Parsed<boolean | undefined> {
  const t = text.trim().toLowerCase();
  if (t === '') return ok(undefined);
  if (words.true.includes(t)) return ok(true);
  if (words.false.includes(t)) return ok(false);
  return fail(`"${text.trim()}" is not yes or no`);
}

export function parseWholeNumber(text: string, min: number, max: number): Parsed<number> {
  const t = text.trim();
  if (!/^\d+(\.0+)?$/.test(t)) return fail(`"${t}" is not a whole number`);
  const n = Number.parseInt(t, 10);
  return n < min || n > max ? fail(`${n} is outside ${min}–${max}`) : ok(n);
}

/**
 * Tracks whether a date column proves its day/month order. A column in which no first component
 * is over 12 could be read either way: the most common silent migration error.
 */
export class DateOrderEvidence {
  private readonly columns = new Map<string, { parsed: number; proven: boolean }>();

  observe(file: string, column: string, first: number | undefined): void {
    if (first === undefined) return;
    const key = `${file}\u0000${column}`;
    const c = this.columns.get(key) ?? { parsed: 0, proven: false };
    c.parsed++;
    if (first > 12) c.proven = true;
    this.columns.set(key, c);
  }

  /** The evidence as plain data, to be merged with other batches' (`merge`). */
  snapshot(): Record<string, { parsed: number; proven: boolean }> {
    return Object.fromEntries(this.columns);
  }

  merge(snapshot: Record<string, { parsed: number; proven: boolean }>): void {
    for (const [key, c] of Object.entries(snapshot)) {
      const mine = this.columns.get(key) ?? { parsed: 0, proven: false };
      this.columns.set(key, { parsed: mine.parsed + c.parsed, proven: mine.proven || c.proven });
    }
  }

  ambiguous(): { file: string; column: string; values: number }[] {
    return [...this.columns.entries()]
      .filter(([, c]) => !c.proven && c.parsed > 0)
      .map(([key, c]) => {
        const [file = '', column = ''] = key.split('\u0000');
        return { file, column, values: c.parsed };
      });
  }
}

/**
 * The calendar date of a manifest's `exportedAt` (`2026-11-20T09:00:00+13:00` → 2026-11-20, the
 * clinic's own date as written), or undefined when it has none.
 */
export function exportDateOf(exportedAt: string | undefined): LocalDate | undefined {
  const parsed = exportedAt ? parseDate(exportedAt.slice(0, 10), 'ymd') : undefined;
  return parsed?.ok ? parsed.value : undefined;
}

/** Names of the invisible characters real exports carry most, for the report (others as `U+XXXX`). */
const CHARACTER_NAMES: Record<number, string> = {
  160: 'no-break space',
  173: 'soft hyphen',
  847: 'combining grapheme joiner',
  1564: 'Arabic letter mark',
  5760: 'Ogham space',
  6158: 'Mongolian vowel separator',
  8199: 'figure space',
  8203: 'zero-width space',
  8204: 'zero-width non-joiner',
  8205: 'zero-width joiner',
  8206: 'left-to-right mark',
  8207: 'right-to-left mark',
  8232: 'line separator',
  8233: 'paragraph separator',
  8234: 'left-to-right embedding',
  8235: 'right-to-left embedding',
  8236: 'pop directional formatting',
  8237: 'left-to-right override',
  8238: 'right-to-left override',
  8239: 'narrow no-break space',
  8288: 'word joiner',
  8294: 'left-to-right isolate',
  8295: 'right-to-left isolate',
  8296: 'first strong isolate',
  8297: 'pop directional isolate',
  12288: 'ideographic space',
  12644: 'Hangul filler',
  65279: 'byte order mark',
};

/** `U+200B zero-width space`: how the report names a character. */
export function characterLabel(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  const hex = `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = CHARACTER_NAMES[cp];
  return name ? `${hex} ${name}` : hex;
}

export interface CleanedText {
  /** The text with invisible characters removed, Unicode spaces and line breaks made plain, trimmed. */
  readonly value: string;
  /** Labels (`characterLabel`) of the characters removed, each once. */
  readonly removed: readonly string[];
  /** Labels of the characters replaced by a plain space or line break, each once. */
  readonly replaced: readonly string[];
}

// Candidates, judged one by one in `cleanText`: format and other default-ignorable characters,
// controls but tab, line feed, return and NUL, Unicode spaces but the plain one (Zs is U+0020,
// U+00A0, U+1680, U+2000–U+200A, U+202F, U+205F and U+3000), and line and paragraph separators.
const SUSPECT =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is named to be left out of the class
  /[\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}\u00A0\u1680\u2000-\u200A\u202F\u205F\u3000]|[^\P{Cc}\t\n\r\u0000]/u;
/** An emoji, or a part of an emoji sequence (skin tone, presentation selector, tag). */
const PICTOGRAPH = /\p{Extended_Pictographic}|\p{Emoji_Modifier}|\u{FE0F}|[\u{E0020}-\u{E007F}]/u;
/** Letters of scripts whose spelling needs zero-width (non-)joiners (Arabic, Persian, Indic…). */
const JOINING_LETTER = /(?![\p{Script=Latin}\p{Script=Common}])[\p{L}\p{M}]/u;
/** Format characters that are visible signs, not invisible marks (Arabic number signs and the like). */
const VISIBLE_FORMAT = new Set([
  0x0600, 0x0601, 0x0602, 0x0603, 0x0604, 0x0605, 0x06dd, 0x070f, 0x08e2, 0x110bd, 0x110cd,
]);

/**
 * The one cleaning every text cell gets before any field check (issue 25): characters nobody sees
 * and no field means (zero-width spaces and joiners, BOMs inside a cell, soft hyphens, bidirectional
 * marks and other format characters, control characters but tab, line feed and return) are
 * removed; no-break and other Unicode spaces become a plain space, vertical tabs and Unicode line
 * and paragraph separators a line break; the result is trimmed. What still carries meaning stays:
 * variation selectors, a zero-width joiner inside an emoji sequence, (non-)joiners between letters
 * of scripts that spell with them, tag characters of flag emoji. NUL is left for the caller, which
 * reports it on its own (Cliniko cannot store it). Property escapes are Unicode's own categories.
 */
export function cleanText(text: string): CleanedText {
  if (!SUSPECT.test(text)) return { value: text.trim(), removed: [], replaced: [] };
  const removed = new Set<string>();
  const replaced = new Set<string>();
  const chars = [...text];
  const out = chars.map((ch, i) => {
    if (!SUSPECT.test(ch)) return ch;
    const cp = ch.codePointAt(0) ?? 0;
    if (/\p{Zs}/u.test(ch)) {
      replaced.add(characterLabel(ch));
      return ' ';
    }
    if (cp === 0x0b || cp === 0x85 || cp === 0x2028 || cp === 0x2029) {
      replaced.add(characterLabel(ch));
      return '\n';
    }
    if (VISIBLE_FORMAT.has(cp)) return ch;
    // variation selectors choose a glyph (emoji or text presentation): they are part of the text
    if (
      (cp >= 0xfe00 && cp <= 0xfe0f) ||
      (cp >= 0xe0100 && cp <= 0xe01ef) ||
      (cp >= 0x180b && cp <= 0x180f && cp !== 0x180e)
    )
      return ch;
    const before = chars[i - 1] ?? '';
    const after = chars[i + 1] ?? '';
    if (cp === 0x200d && PICTOGRAPH.test(before) && PICTOGRAPH.test(after)) return ch;
    if ((cp === 0x200c || cp === 0x200d) && JOINING_LETTER.test(before) && JOINING_LETTER.test(after))
      return ch;
    if (cp >= 0xe0020 && cp <= 0xe007f && PICTOGRAPH.test(before)) return ch;
    removed.add(characterLabel(ch));
    return '';
  });
  return { value: out.join('').trim(), removed: [...removed], replaced: [...replaced] };
}

/**
 * A phone cell read as what it holds (issue 25): the numbers in it, each as written; extensions
 * after a number (`ext 204`, `x204`, `#204`); words beside the numbers (`after 5pm`, `Mob:`); and
 * pieces that are no number at all. Numbers are separated by `/`, `;`, `,`, `|`, `&`, a line
 * break, ` or ` or ` and `. A number is an optional `+`, then digits with spaces, dots, hyphens and
 * parenthesised digit groups, 5 to 15 digits in all (E.164, ITU-T: at most 15 digits): two numbers
 * run together without a separator have more, and are never read as one.
 */
export interface PhoneCell {
  readonly numbers: readonly string[];
  readonly extensions: readonly string[];
  readonly remarks: readonly string[];
  /** Pieces that hold digits but no phone number (too few or too many digits). */
  readonly unreadable: readonly string[];
}

const PHONE_SEPARATOR = /\s*(?:[/;,|&\n]|\s(?:or|and)\s)\s*/i;
const PHONE_EXTENSION = /^(.*\d)[\s,.;:-]*(?:ext|extn|extension|x|#)\.?\s*(\d{1,6})$/i;
const LONE_EXTENSION = /^(?:ext|extn|extension|x|#)\.?\s*(\d{1,6})$/i;
const PHONE_NUMBER = /(?:\+\s*)?(?:\(\s*\d[\d\s]*\)[\s.-]*)?\d(?:[\d\s.-]|\(\d[\d\s]*\))*\d/;
const AROUND = /^[\s:,.()[\]{}\-–—]+|[\s:,.()[\]{}\-–—]+$/g;

export function parsePhoneCell(text: string): PhoneCell {
  const numbers: string[] = [];
  const extensions: string[] = [];
  const remarks: string[] = [];
  const unreadable: string[] = [];
  const digits = (s: string) => s.replace(/\D/g, '');
  for (const piece of text.split(PHONE_SEPARATOR)) {
    let part = piece.trim();
    if (!part) continue;
    const lone = LONE_EXTENSION.exec(part);
    if (lone?.[1] && numbers.length) {
      extensions.push(lone[1]);
      continue;
    }
    const ext = PHONE_EXTENSION.exec(part);
    if (ext?.[1] && ext[2]) {
      part = ext[1];
      extensions.push(ext[2]);
    }
    const m = PHONE_NUMBER.exec(part);
    const core = m?.[0].trim() ?? '';
    const n = digits(core).length;
    const rest = m ? `${part.slice(0, m.index)} ${part.slice(m.index + m[0].length)}` : part;
    const remark = rest.replace(AROUND, '').replace(/\s+/g, ' ');
    if (m && n >= 5 && n <= 15) {
      if (!numbers.some((x) => digits(x) === digits(core))) numbers.push(core);
      if (remark) remarks.push(remark);
    } else if (/\d/.test(part) && !/[a-z]/i.test(remark)) unreadable.push(part);
    else remarks.push(part);
  }
  return { numbers, extensions, remarks, unreadable };
}

const SEVERAL = /\s*(?:[;,|\n]|\s(?:or|and|&)\s)\s*/i;
const SEVERAL_WITH_SLASH = /\s*(?:[/;,|\n]|\s(?:or|and|&)\s)\s*/i;

/**
 * The values a cell holds when it holds several of one kind (issue 25): the cell is split at `;`,
 * `,`, `|`, a line break, ` or `, ` and `, ` & ` (and `/` when `slash`, which dates use inside a
 * value), and counts as several only when there are two pieces or more and every one is valid by
 * `isValid`. Undefined otherwise (a valid single value, or damage of another kind).
 */
export function severalValues(
  text: string,
  isValid: (piece: string) => boolean,
  options: { readonly slash: boolean },
): string[] | undefined {
  const pieces = text
    .split(options.slash ? SEVERAL_WITH_SLASH : SEVERAL)
    .map((p) => p.trim())
    .filter(Boolean);
  return pieces.length > 1 && pieces.every(isValid) ? pieces : undefined;
}
