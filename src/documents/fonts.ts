import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, join } from 'node:path';
import * as fontkit from 'fontkit';

/**
 * The fonts clinical-note PDFs embed. Notes hold whatever staff typed: Māori macrons, Greek and
 * Cyrillic, Hebrew and Arabic, Chinese, Japanese, Korean, Devanagari, Thai. No single font covers
 * that, so text is set in DejaVu Sans and each character it lacks falls back, in order, to the
 * Noto fonts below. Only fonts a document needs are embedded, and only their used glyphs.
 */
export const NOTE_FONTS_DIR_ENV = 'NOTE_FONTS_DIR';

export const FONT_PACKAGES = {
  regular: 'dejavu-fonts-ttf/ttf/DejaVuSans.ttf',
  bold: 'dejavu-fonts-ttf/ttf/DejaVuSans-Bold.ttf',
  fallbacks: [
    '@expo-google-fonts/noto-sans-sc/400Regular/NotoSansSC_400Regular.ttf',
    '@expo-google-fonts/noto-sans-kr/400Regular/NotoSansKR_400Regular.ttf',
    '@expo-google-fonts/noto-sans-devanagari/400Regular/NotoSansDevanagari_400Regular.ttf',
    '@expo-google-fonts/noto-sans-thai/400Regular/NotoSansThai_400Regular.ttf',
  ],
} as const;

/** Every font file, as a package path: what a Lambda bundle must carry. */
export const ALL_FONT_FILES: readonly string[] = [
  FONT_PACKAGES.regular,
  FONT_PACKAGES.bold,
  ...FONT_PACKAGES.fallbacks,
];

/**
 * A font file's path. A Lambda bundle has no node_modules: its fonts are copied next to the
 * handler and the folder is named by `NOTE_FONTS_DIR`.
 */
export function fontPath(spec: string): string {
  const dir = process.env[NOTE_FONTS_DIR_ENV];
  if (dir) return join(dir, basename(spec));
  return createRequire(import.meta.url).resolve(spec);
}

const bytes = new Map<string, Buffer>();
/** The font's bytes, read once per process (pdfkit parses them per document). */
export function fontBytes(spec: string): Buffer {
  let b = bytes.get(spec);
  if (!b) {
    b = readFileSync(fontPath(spec));
    bytes.set(spec, b);
  }
  return b;
}

/** The regular chain: DejaVu Sans, then the fallbacks. Index 0 is the primary font. */
export const REGULAR_CHAIN: readonly string[] = [FONT_PACKAGES.regular, ...FONT_PACKAGES.fallbacks];

const parsed = new Map<string, fontkit.Font>();
/**
 * The parsed font, shared by every document of the process: parsing DejaVu and a CJK font anew
 * for each PDF cost more than laying the notes out (pdfkit takes a fontkit font as it is).
 */
export function fontObject(spec: string): fontkit.Font {
  let f = parsed.get(spec);
  if (!f) {
    f = fontkit.create(fontBytes(spec));
    parsed.set(spec, f);
  }
  return f;
}

/** Characters that take the font of the text around them (spaces, marks, joiners). */
const INHERITS = /[\p{Z}\p{Mn}\p{Me}\p{Cf}\s]/u;

/** -1: no font has it; otherwise the index in REGULAR_CHAIN. */
const chainIndex = new Map<number, number>();
function fontIndexFor(cp: number): number {
  let i = chainIndex.get(cp);
  if (i === undefined) {
    i = REGULAR_CHAIN.findIndex((spec) => fontObject(spec).hasGlyphForCodePoint(cp));
    chainIndex.set(cp, i);
  }
  return i;
}

export interface TextRun {
  /** Index in REGULAR_CHAIN. */
  readonly font: number;
  readonly text: string;
}

/**
 * Splits text into runs that one font can draw. Characters no font has stay in the run they
 * fall in (drawn as a missing-glyph box) and are listed by `uncovered`.
 */
export function fontRuns(text: string): TextRun[] {
  const runs: TextRun[] = [];
  let current = 0;
  let start = 0;
  let i = 0;
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp >= 0x80 && !INHERITS.test(ch)) {
      const f = fontIndexFor(cp);
      if (f >= 0 && f !== current) {
        if (i > start) runs.push({ font: current, text: text.slice(start, i) });
        current = f;
        start = i;
      }
    } else if (cp < 0x80 && current !== 0 && /[A-Za-z0-9]/.test(ch)) {
      // ASCII letters and digits always come back to the primary font.
      if (i > start) runs.push({ font: current, text: text.slice(start, i) });
      current = 0;
      start = i;
    }
    i += ch.length;
  }
  if (text.length > start) runs.push({ font: current, text: text.slice(start) });
  return runs;
}

/** The characters of `text` that no embedded font can draw (each once, in order of appearance). */
export function uncovered(text: string): string[] {
  const out = new Set<string>();
  for (const ch of text) {
    const cp = ch.codePointAt(0) ?? 0;
    if (cp < 0x80 || INHERITS.test(ch)) continue;
    if (fontIndexFor(cp) < 0) out.add(ch);
  }
  return [...out];
}
