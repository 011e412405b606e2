import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { z } from 'zod';
import { formatBytes } from '../core/byte-size.js';

/**
 * An export as a set of entries, whether a zip or an unpacked folder. Entries are listed from the
 * zip's central directory and opened as streams one at a time: nothing is extracted to disk and
 * no file is held whole in memory. Entries whose path escapes the archive are never opened.
 */
/** The export's entry list as Preflight leaves it in the bucket for the mappers. */
export const ArchiveEntries = z.array(z.object({ path: z.string(), size: z.number().nonnegative() }));

export interface ArchiveEntry {
  /** Path inside the archive, with forward slashes, the single top-level folder (if any) removed. */
  readonly path: string;
  readonly size: number;
}

export interface RejectedEntry {
  readonly rawPath: string;
  readonly reason: 'escapes-archive';
}

export interface ExportArchive {
  readonly entries: readonly ArchiveEntry[];
  readonly rejected: readonly RejectedEntry[];
  /** Paths (as stored) of the files operating systems add to a folder or zip: never read. */
  readonly ignored: readonly string[];
  /** Opens an entry by its path as listed in `entries` (or the one entry `match` finds for it). */
  open(path: string): Promise<Readable>;
  /** The one entry a path names (`match`), or undefined when none or several do. */
  find(path: string): ArchiveEntry | undefined;
  /** What a path names among the entries: see `EntryIndex.match`. */
  match(path: string): EntryMatch;
  close(): Promise<void>;
}

export class ArchiveError extends Error {
  override name = 'ArchiveError';
}

export interface ArchiveLimits {
  /** Refuse archives that expand beyond this many bytes in all. */
  readonly maxTotalBytes: number;
  /** Refuse an entry that expands more than this many times its compressed size (and is large). */
  readonly maxRatio: number;
  /** Entries smaller than this are not judged by their ratio (a tiny file of spaces is fine). */
  readonly ratioFloorBytes: number;
}

export const DEFAULT_LIMITS: ArchiveLimits = {
  maxTotalBytes: 500 * 1024 ** 3,
  maxRatio: 200,
  ratioFloorBytes: 10 * 1024 ** 2,
};

/** A path that is safe to read: relative, no `..`, no drive letters, no backslash tricks. */
export function safeEntryPath(raw: string): string | undefined {
  if (raw.includes('\0')) return undefined;
  const forward = raw.replace(/\\/g, '/');
  if (forward.startsWith('/') || /^[a-zA-Z]:/.test(forward)) return undefined;
  const parts = forward.split('/').filter((p) => p !== '' && p !== '.');
  if (parts.some((p) => p === '..')) return undefined;
  return parts.join('/');
}

/**
 * Strips the folders every entry sits inside (`GensolveExport/`, or `Users/jo/Desktop/GensolveExport/`
 * from a zip made with full paths): the export's root is where its entries part. Run after the
 * files operating systems add are set aside, which would otherwise look like a second folder.
 */
function stripCommonRoot(paths: string[]): (p: string) => string {
  let prefix = '';
  for (;;) {
    const tops = new Set(
      paths.map((p) => {
        const rest = p.slice(prefix.length);
        return rest.includes('/') ? rest.split('/')[0] : '';
      }),
    );
    const [top] = [...tops];
    if (tops.size !== 1 || !top) break;
    prefix += `${top}/`;
  }
  return (p) => p.slice(prefix.length);
}

/**
 * The loosened key of a path: Unicode normalised (a zip re-made on a Mac stores `é` as `e` +
 * U+0301) and case folded (docs/EXPORT-FORMAT.md, The archive). Two entries may share it (a
 * case-sensitive store holds `Scan.pdf` and `scan.pdf`), so it finds an entry only through
 * `EntryIndex.match`, which accepts it only when it is the only candidate. Separators are made `/`
 * by `safeEntryPath` first.
 */
export function entryKey(path: string): string {
  return path.normalize('NFC').toLowerCase().normalize('NFC');
}

/**
 * What a path names among an export's entries: `found` when one entry has exactly that path, or
 * else when exactly one has it loosely (`entryKey`); `ambiguous` when several do, with their paths
 * (`Uploads/Scan.pdf` and `Uploads/scan.pdf` are two patients' files on a case-sensitive store);
 * `missing` when none does. Separators are made `/` (`safeEntryPath`) before either comparison.
 */
export type EntryMatch =
  | { readonly kind: 'found'; readonly entry: ArchiveEntry }
  | { readonly kind: 'ambiguous'; readonly candidates: readonly string[] }
  | { readonly kind: 'missing' };

/**
 * The one lookup of an export's entries by path, for tables and documents alike (issue 25): an
 * exact match first; a loosened one (case, Unicode normalisation) only when it is the only
 * candidate, so a file is never swapped for another that differs only in those.
 */
export class EntryIndex {
  private readonly exact = new Map<string, ArchiveEntry[]>();
  private readonly loose = new Map<string, ArchiveEntry[]>();

  constructor(entries: readonly ArchiveEntry[]) {
    for (const e of entries) {
      push(this.exact, e.path, e);
      push(this.loose, entryKey(e.path), e);
    }
  }

  /** `path` as a FilePath cell or a table name gives it; unsafe paths are `missing` here. */
  match(path: string): EntryMatch {
    const safe = safeEntryPath(path);
    if (safe === undefined || safe === '') return { kind: 'missing' };
    const same = this.exact.get(safe) ?? this.loose.get(entryKey(safe)) ?? [];
    const [only, ...more] = same;
    if (!only) return { kind: 'missing' };
    if (more.length) return { kind: 'ambiguous', candidates: same.map((e) => e.path) };
    return { kind: 'found', entry: only };
  }

  find(path: string): ArchiveEntry | undefined {
    const m = this.match(path);
    return m.kind === 'found' ? m.entry : undefined;
  }
}

function push<T>(map: Map<string, T[]>, key: string, value: T): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Folders and files that operating systems add to a folder, or to a zip made from one: macOS
 * Finder's `__MACOSX/` resource forks and `._*` AppleDouble files, `.DS_Store`, Spotlight and
 * Trash folders; Windows Explorer's `Thumbs.db`, `desktop.ini`, `$RECYCLE.BIN`; KDE's `.directory`.
 * They are no part of the export wherever they sit, and would otherwise look like a second
 * top-level folder. Compared without case (Windows names are case-insensitive).
 */
const OS_FOLDERS = new Set(
  [
    '__macosx',
    '.spotlight-v100',
    '.trashes',
    '.fseventsd',
    '.temporaryitems',
    '.appledouble',
    '.appledb',
    '.appledesktop',
    '$recycle.bin',
    'system volume information',
  ].map((n) => n.toLowerCase()),
);
const OS_FILES = new Set([
  '.ds_store',
  'thumbs.db',
  'ehthumbs.db',
  'desktop.ini',
  '.directory',
  '.localized',
  'icon\r',
]);

/**
 * The kind of file an operating system added that a (safe, `/`-separated) entry path is, as the
 * report names it (`__MACOSX/`, `._*`, `.DS_Store`…), or undefined when it is part of the export.
 */
export function osJunkKind(path: string): string | undefined {
  const parts = path.split('/');
  const name = parts.at(-1) ?? '';
  const folder = parts.slice(0, -1).find((f) => OS_FOLDERS.has(f.toLowerCase()));
  if (folder !== undefined) return `${folder}/`;
  if (name.startsWith('._')) return '._*';
  return OS_FILES.has(name.toLowerCase()) ? name : undefined;
}

/** Whether a (safe, `/`-separated) entry path is a file an operating system added. */
export function isOsJunk(path: string): boolean {
  return osJunkKind(path) !== undefined;
}

/**
 * Random access to an archive's bytes: a local file, or an object store read by byte ranges
 * (the adapter for S3 lives with the Lambdas; this module imports no SDK).
 */
export interface ByteSource {
  readonly name: string;
  readonly size: number;
  /** Bytes [start, end) as a stream. */
  readRange(start: number, end: number): Readable;
}

/** Opens a zip held by a byte source: the central directory and entries are read by range. */
export async function openZipSource(
  source: ByteSource,
  limits: ArchiveLimits = DEFAULT_LIMITS,
): Promise<ExportArchive> {
  class SourceReader extends yauzl.RandomAccessReader {
    override _readStreamForRange(start: number, end: number): Readable {
      return source.readRange(start, end);
    }
  }
  const zip = await new Promise<yauzl.ZipFile>((resolve, reject) =>
    yauzl.fromRandomAccessReader(new SourceReader(), source.size, ZIP_OPTIONS, (err, z) =>
      err || !z
        ? reject(
            new ArchiveError(
              `${source.name} is not a readable zip archive (${err?.message ?? 'unknown error'})`,
            ),
          )
        : resolve(z),
    ),
  );
  return readZip(source.name, zip, limits);
}

export async function openArchive(
  path: string,
  limits: ArchiveLimits = DEFAULT_LIMITS,
): Promise<ExportArchive> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(path);
  } catch {
    throw new ArchiveError(`${path}: no such file or folder`);
  }
  return info.isDirectory() ? openFolder(path) : openZip(path, limits);
}

/** Every regular file below a folder, as forward-slash paths; symbolic links are never followed. */
export async function listFolderFiles(root: string): Promise<{ full: string; rel: string; size: number }[]> {
  const files: { full: string; rel: string; size: number }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const d of await readdir(dir, { withFileTypes: true })) {
      const full = join(dir, d.name);
      // a link could point outside the folder
      if (d.isSymbolicLink()) continue;
      if (d.isDirectory()) await walk(full);
      else if (d.isFile())
        files.push({ full, rel: relative(root, full).split(sep).join('/'), size: (await stat(full)).size });
    }
  };
  await walk(root);
  return files;
}

async function openFolder(root: string): Promise<ExportArchive> {
  const all = await listFolderFiles(root);
  const ignored = all.filter((f) => isOsJunk(f.rel)).map((f) => f.rel);
  const files = all.filter((f) => !isOsJunk(f.rel));
  const strip = stripCommonRoot(files.map((f) => f.rel));
  const byPath = new Map<string, string>();
  const entries = files.map((f) => {
    const p = strip(f.rel);
    byPath.set(p, f.full);
    return { path: p, size: f.size };
  });
  const index = new EntryIndex(entries);
  return {
    entries,
    rejected: [],
    ignored,
    find: (p) => index.find(p),
    match: (p) => index.match(p),
    open: async (p) => {
      const full = byPath.get(p) ?? byPath.get(index.find(p)?.path ?? '');
      if (!full) throw new ArchiveError(`no entry ${p}`);
      return createReadStream(full);
    },
    close: async () => {},
  };
}

// Raw names (decodeStrings: false): yauzl would fail the whole archive on an escaping name; we
// skip that entry instead.
const ZIP_OPTIONS = {
  lazyEntries: true,
  autoClose: false,
  validateEntrySizes: true,
  decodeStrings: false,
} as const;

function openZipFile(path: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) =>
    yauzl.open(path, ZIP_OPTIONS, (err, zip) =>
      err || !zip
        ? reject(
            new ArchiveError(
              `${path} is not a readable zip archive (${err?.message ?? 'unknown error'}): expected the export as a .zip, or the folder it was unpacked into`,
            ),
          )
        : resolve(zip),
    ),
  );
}

async function openZip(path: string, limits: ArchiveLimits): Promise<ExportArchive> {
  return readZip(path, await openZipFile(path), limits);
}

async function readZip(path: string, zip: yauzl.ZipFile, limits: ArchiveLimits): Promise<ExportArchive> {
  const raw: yauzl.Entry[] = await new Promise((resolve, reject) => {
    const list: yauzl.Entry[] = [];
    zip.on('entry', (e: yauzl.Entry) => {
      list.push(e);
      zip.readEntry();
    });
    zip.on('end', () => resolve(list));
    zip.on('error', (err: Error) => reject(new ArchiveError(`${path}: ${err.message}`)));
    zip.readEntry();
  });
  const rejected: RejectedEntry[] = [];
  const ignored: string[] = [];
  const safe: { entry: yauzl.Entry; path: string }[] = [];
  let total = 0;
  for (const entry of raw) {
    const name = entryName(entry);
    if (name.endsWith('/')) continue;
    const p = safeEntryPath(name);
    if (p === undefined || p === '') {
      rejected.push({ rawPath: name, reason: 'escapes-archive' });
      continue;
    }
    if (isOsJunk(p)) {
      ignored.push(p);
      continue;
    }
    total += entry.uncompressedSize;
    const ratio = entry.uncompressedSize / Math.max(1, entry.compressedSize);
    if (entry.uncompressedSize > limits.ratioFloorBytes && ratio > limits.maxRatio) {
      await closeZip(zip);
      throw new ArchiveError(
        `${path} looks like a zip bomb: ${p} expands ${Math.round(ratio)} times (${formatBytes(entry.uncompressedSize)} from ${formatBytes(entry.compressedSize)}). Ask for a fresh export.`,
      );
    }
    safe.push({ entry, path: p });
  }
  if (total > limits.maxTotalBytes) {
    await closeZip(zip);
    throw new ArchiveError(
      `${path} would expand to ${formatBytes(total)}, more than the ${formatBytes(limits.maxTotalBytes)} allowed.`,
    );
  }
  const strip = stripCommonRoot(safe.map((s) => s.path));
  const byPath = new Map<string, yauzl.Entry>();
  const entries = safe.map((s) => {
    const p = strip(s.path);
    // a path stored twice: the first copy is the one `open` reads (`match` calls it ambiguous)
    if (!byPath.has(p)) byPath.set(p, s.entry);
    return { path: p, size: s.entry.uncompressedSize };
  });
  const index = new EntryIndex(entries);
  return {
    entries,
    rejected,
    ignored,
    find: (p) => index.find(p),
    match: (p) => index.match(p),
    open: (p) =>
      new Promise((resolve, reject) => {
        const entry = byPath.get(p) ?? byPath.get(index.find(p)?.path ?? '');
        if (!entry) return reject(new ArchiveError(`no entry ${p}`));
        zip.openReadStream(entry, (err, stream) =>
          err || !stream ? reject(err ?? new ArchiveError(`cannot read ${p}`)) : resolve(stream),
        );
      }),
    close: () => closeZip(zip),
  };
}

/** The entry's name as yauzl would decode it (CP437, the UTF-8 flag, Info-ZIP Unicode paths). */
function entryName(entry: yauzl.Entry): string {
  const raw = entry as unknown as {
    fileNameRaw: Buffer;
    extraFields: unknown[];
    generalPurposeBitFlag: number;
  };
  const decode = (
    yauzl as unknown as {
      getFileNameLowLevel: (flag: number, name: Buffer, extra: unknown[], strict: boolean) => string;
    }
  ).getFileNameLowLevel;
  return decode(raw.generalPurposeBitFlag, raw.fileNameRaw, raw.extraFields, false);
}

function closeZip(zip: yauzl.ZipFile): Promise<void> {
  return new Promise((resolve) => {
    if (!zip.isOpen) return resolve();
    zip.once('close', () => resolve());
    zip.close();
  });
}
