import { z } from 'zod';
import type { ExportArchive } from './archive.js';

/**
 * `manifest.json` at the root of an export (docs/EXPORT-FORMAT.md): which system wrote it, when, in
 * which zone. Every field is optional: older exports have no manifest, and a field of the wrong
 * type is ignored rather than trusted.
 */
export const Manifest = z.object({
  system: z.string().optional().catch(undefined),
  exportedAt: z.string().optional().catch(undefined),
  timeZone: z.string().optional().catch(undefined),
});
export type Manifest = z.infer<typeof Manifest>;

/** The export's manifest, or undefined when it has none or it is not a JSON object (read up to 1 MB). */
export async function readManifest(archive: ExportArchive): Promise<Manifest | undefined> {
  const entry = archive.find('manifest.json');
  if (!entry) return undefined;
  let text = '';
  for await (const chunk of await archive.open(entry.path)) {
    text += (chunk as Buffer).toString('utf8');
    if (text.length > 1_000_000) break;
  }
  try {
    const parsed = Manifest.safeParse(JSON.parse(text.replace(/^\uFEFF/, '')));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
