import type * as M from '../core/canonical.js';
import type { RowResult } from '../core/problem.js';
import { formatDate } from '../core/values.js';
import type { SourceRow } from '../source/csv.js';
import type { RowContext } from './row-context.js';
import { checkParent } from './row-problems.js';
import { compact, readRow } from './row-reader.js';

const CONTENT_TYPES: Record<string, string> = {
  pdf: 'application/pdf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  rtf: 'application/rtf',
  txt: 'text/plain',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  tif: 'image/tiff',
  tiff: 'image/tiff',
  heic: 'image/heic',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  html: 'text/html',
  htm: 'text/html',
};

/** The given content type when well-formed, else the one of the file's extension (octet-stream when unknown). */
export function contentTypeFor(path: string, given?: string): string {
  if (given && /^[\w.+-]+\/[\w.+-]+$/.test(given)) return given;
  const ext = path.split('.').pop()?.toLowerCase() ?? '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}

/**
 * A Letters.csv or Uploads.csv row → a document to attach: its file must be in the export, inside
 * it, and not empty (docs/EXPORT-FORMAT.md, The tables: Letters.csv and Uploads.csv).
 */
export function buildDocument(
  kind: M.Document['kind'],
  row: SourceRow,
  ctx: RowContext,
): RowResult<M.Document> {
  const key = kind === 'letter' ? 'LetterId' : 'UploadId';
  const { p, v, required, optional, date, sourceId } = readRow(ctx, row, key);
  required(key);
  const clientId = required('ClientId');
  const rawPath = required('FilePath');
  const day = kind === 'letter' ? date('LetterDate', true) : date('UploadDate', false);
  checkParent(p, ctx, clientId);
  let found: { path: string; size: number } | undefined;
  if (rawPath) {
    const doc = ctx.refs.document(rawPath);
    if (doc.kind === 'escapes')
      p.error(
        'FilePath',
        'PATH_ESCAPES_ARCHIVE',
        `FilePath "${rawPath}" points outside the export; it is never read`,
      );
    else if (doc.kind === 'missing')
      p.error('FilePath', 'FILE_MISSING', `FilePath "${rawPath}" is not in the export`);
    // Files that differ only in case or normalisation can be two patients' (issue 25): guessing
    // one could attach another patient's file, so none is uploaded.
    else if (doc.kind === 'ambiguous')
      p.error(
        'FilePath',
        'FILE_AMBIGUOUS',
        `FilePath "${rawPath}" matches no file exactly and ${doc.candidates.length} files loosely (${doc.candidates.join(', ')}); none is uploaded (fix the path to name one exactly)`,
      );
    // An empty attachment helps no one and hides that the file was lost before the export.
    else if (doc.entry.size === 0)
      p.error('FilePath', 'FILE_EMPTY', `FilePath "${rawPath}": the file is empty (0 bytes); not uploaded`);
    else found = doc.entry;
  }
  if (p.invalid || !found) return p.result<M.Document>(undefined);
  const record = compact({
    sourceId,
    kind,
    patientSourceId: clientId,
    path: found.path,
    size: found.size,
    date: day ? formatDate(day) : undefined,
    title: kind === 'letter' ? optional('Subject') : optional('Description'),
    recipientName: kind === 'letter' ? optional('RecipientName') : undefined,
    practitionerSourceId: kind === 'letter' ? optional('PractitionerId') : undefined,
    contentType: contentTypeFor(found.path, v.ContentType),
  });
  return p.result(record);
}
