import type { Readable } from 'node:stream';
import { documentStream, kindOf } from './document-bytes.js';
import { csvLine, dmy } from './export-zip.js';
import type { Generation } from './generation.js';
import { LAST, uploadName } from './vocabulary.js';

/** Letters.csv: file paths with Windows separators, a missing file and one escaping the export. */
export function* letterRows(g: Generation): Generator<string> {
  yield csvLine([
    'LetterId',
    'ClientId',
    'LetterDate',
    'FilePath',
    'Subject',
    'RecipientName',
    'PractitionerId',
  ]);
  for (let i = 1; i <= g.letters; i++) {
    g.count('letters');
    const path =
      g.chance(0.02) || (g.messy && i === Math.min(2, g.letters))
        ? `Letters/missing-${i}.pdf`
        : g.chance(0.005) || (g.messy && i === Math.min(3, g.letters) && g.letters > 2)
          ? `..\\..\\etc\\passwd`
          : `Letters\\letter-${i}.pdf`;
    yield csvLine([
      `LT${i}`,
      `C${1 + ((i * 7) % g.n)}`,
      dmy(g.someDay()),
      path,
      g.pick(['Letter to GP', 'ACC report', 'Discharge summary']),
      `Dr ${g.pick(LAST)}`,
      'P1',
    ]);
  }
}

/** Uploads.csv: one file per row, its content type left for the reader to infer. */
export function* uploadRows(g: Generation): Generator<string> {
  yield csvLine(['UploadId', 'ClientId', 'FilePath', 'UploadDate', 'Description', 'ContentType']);
  for (let i = 1; i <= g.uploads; i++) {
    g.count('uploads');
    yield csvLine([
      `U${i}`,
      `C${1 + ((i * 11) % g.n)}`,
      `Uploads/${uploadName(i)}`,
      dmy(g.someDay()),
      g.pick(['X-ray', 'Referral scan', 'Consent form']),
      '',
    ]);
  }
}

/**
 * The letters' and uploads' files, by their usual names (a row naming a missing or escaping path
 * has none): a few hundred bytes each, or with a byte budget (`documentsMb`), each of its drawn
 * size as a stream of PDF-, JPEG- or PNG-looking bytes, generated as the zip reads it.
 */
export function* documentFiles(
  g: Generation,
): Generator<{ name: string; bytes: Buffer } | { name: string; stream: Readable; size: number }> {
  const sized = g.documentBytes;
  for (let i = 1; i <= g.letters; i++) {
    const name = `GensolveExport/Letters/letter-${i}.pdf`;
    const size = sized?.letters[i - 1];
    if (size !== undefined) yield { name, stream: documentStream('pdf', size, `${g.seed}:${name}`), size };
    else
      yield {
        name,
        bytes: Buffer.from(`%PDF-1.4\n% letter ${i}\n${'Letter body. '.repeat(20)}\n%%EOF\n`),
      };
  }
  for (let i = 1; i <= g.uploads; i++) {
    const file = uploadName(i);
    const name = `GensolveExport/Uploads/${file}`;
    const size = sized?.uploads[i - 1];
    const kind = kindOf(file);
    if (size !== undefined) yield { name, stream: documentStream(kind, size, `${g.seed}:${name}`), size };
    else yield { name, bytes: Buffer.from(`upload ${i} ${'x'.repeat(200)}`) };
  }
}

/** Invoices.csv and Payments.csv: financial tables the migration leaves out and reports. */
export function* invoiceRows(g: Generation): Generator<string> {
  yield csvLine(['InvoiceId', 'ClientId', 'InvoiceDate', 'Total']);
  for (let i = 1; i <= g.n; i++) {
    g.count('invoices');
    yield csvLine([`I${i}`, `C${i}`, dmy(g.someDay()), (50 + Math.floor(g.random() * 100)).toFixed(2)]);
  }
}

export function* paymentRows(g: Generation): Generator<string> {
  yield csvLine(['PaymentId', 'InvoiceId', 'Amount', 'Method']);
  for (let i = 1; i <= Math.round(g.n * 0.9); i++) {
    g.count('payments');
    yield csvLine([`PY${i}`, `I${i}`, '80.00', g.pick(['EFTPOS', 'Cash', 'Credit card'])]);
  }
}
