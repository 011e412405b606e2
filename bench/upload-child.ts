import { ClinikoClient } from '../src/cliniko/client.js';
import { openArchive } from '../src/source/archive.js';

/**
 * Streams one export entry into the sandbox's attachment flow, as a writer does, in its own
 * process so that its peak RSS is the upload's; prints figures as JSON.
 */
const [zip, entryPath, baseUrl, apiKey] = process.argv.slice(2);
if (!zip || !entryPath || !baseUrl || !apiKey)
  throw new Error('usage: upload-child <export.zip> <entry> <baseUrl> <apiKey>');
const client = new ClinikoClient({ apiKey, baseUrl });
const patient = await client.createPatient({ first_name: 'Bench', last_name: 'Upload' });
const archive = await openArchive(zip);
const entry = archive.find(entryPath);
if (!entry) throw new Error(`${entryPath} is not in ${zip}`);
const before = process.memoryUsage().rss;
const started = performance.now();
const { record } = await client.uploadPatientAttachment({
  patientId: patient.id,
  filename: 'scan.bin',
  contentType: 'application/octet-stream',
  size: entry.size,
  open: () => archive.open(entry.path),
  description: 'Bench upload [Upload U1]',
});
const seconds = (performance.now() - started) / 1000;
await archive.close();
console.log(
  JSON.stringify({
    id: record.id,
    bytes: entry.size,
    seconds,
    rssBeforeMb: before / 1024 / 1024,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
  }),
);
