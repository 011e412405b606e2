import type { Problem } from '../core/problem.js';
import { exportDateOf } from '../core/values.js';
import type { BlobStore } from '../ports/blobs.js';
import type { RunInfo } from '../ports/runs.js';
import { openZipSource } from '../source/archive.js';
import type { SourceProfile } from '../source/profile.js';
import { type ClientName, clientNames, namedClient } from '../translate/client-names.js';
import type { ApprovalAids } from './aids-model.js';

/**
 * Client names in the report (issue 26: samples and problems named "Jane Citizen (C9)", where the
 * report already holds patient data). The names are read from the export when the report is
 * written (`clientNames`), never from the status table or the bucket's working files (issue 23).
 */

/** The client a problem is about: a patient row's own id, else a child row's ClientId. */
export function problemClient(p: Problem): string | undefined {
  if (p.entity === 'patients') return p.sourceId || undefined;
  return p.clientSourceId || undefined;
}

/** Every client id the approval aids and problems mention, for one read of the clients table. */
export function clientIdsOf(aids: ApprovalAids, problems: readonly Problem[]): Set<string> {
  const ids = new Set<string>();
  for (const c of aids.clientSample ?? []) ids.add(c.sourceId);
  for (const a of aids.appointmentSample ?? []) ids.add(a.clientSourceId);
  for (const n of aids.notesByClient ?? []) ids.add(n.clientSourceId);
  for (const x of aids.attachmentsByClient ?? []) ids.add(x.clientSourceId);
  for (const p of problems) {
    const id = problemClient(p);
    if (id) ids.add(id);
  }
  ids.delete('');
  return ids;
}

/**
 * The aids and problems with names beside the ids: `clientName` (the name alone) on each sampled
 * client, appointment, notes and attachments row; `patient` ("Jane Citizen (C9)") on each problem
 * whose client the export names. Ids the export does not name are left as they are.
 */
export function withClientNames(
  aids: ApprovalAids,
  problems: readonly Problem[],
  names: ReadonlyMap<string, ClientName>,
): { aids: ApprovalAids; problems: Problem[] } {
  const nameOf = (id: string) => {
    const name = names.get(id)?.name;
    return name ? { clientName: name } : {};
  };
  return {
    aids: {
      ...aids,
      clientSample: aids.clientSample.map((c) => ({ ...c, ...nameOf(c.sourceId) })),
      appointmentSample: aids.appointmentSample.map((a) => ({ ...a, ...nameOf(a.clientSourceId) })),
      notesByClient: aids.notesByClient.map((n) => ({ ...n, ...nameOf(n.clientSourceId) })),
      attachmentsByClient: aids.attachmentsByClient.map((x) => ({ ...x, ...nameOf(x.clientSourceId) })),
    },
    problems: problems.map((p) => {
      const id = problemClient(p);
      const name = id ? names.get(id) : undefined;
      return id && name ? { ...p, patient: namedClient(id, name) } : p;
    }),
  };
}

/**
 * `clientNames` over the run's export in its bucket (read by byte range, the clients table
 * streamed once): what a notes PDF's cover and the report show, read when they are made. Returns
 * id → name for the ids the export names; throws when the export cannot be read (gone, damaged).
 */
export async function namesFromRunExport(
  blobs: Pick<BlobStore, 'byteSource'>,
  run: Pick<RunInfo, 'bucket' | 'exportKey' | 'config' | 'defaultTimeZone' | 'manifest'>,
  profile: SourceProfile,
  ids: Iterable<string>,
): Promise<Map<string, ClientName>> {
  const wanted = [...ids];
  if (!wanted.length) return new Map();
  const archive = await openZipSource(await blobs.byteSource(run.bucket, run.exportKey));
  try {
    const exportDate = exportDateOf(run.manifest?.exportedAt);
    return await clientNames(archive, profile, wanted, {
      config: run.config,
      defaultTimeZone: run.defaultTimeZone,
      ...(exportDate ? { exportDate } : {}),
    });
  } finally {
    await archive.close();
  }
}
