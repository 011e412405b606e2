import { z } from 'zod';
import type { BlobStore } from '../ports/blobs.js';
import { checkpointKeys } from './checkpoint.js';
import { type AccountPatientRef, AccountPatientRefs } from './duplicates.js';
import { accountKeys } from './resources.js';

/** The index of the account's live patients: how many files reconciliation wrote them in. */
export const AccountPatientsIndex = z.object({ files: z.number().int().nonnegative() });

/**
 * The account's live patients as reconciliation of `patients` left them: in files of one
 * invocation's reading each (checkpointKeys.patients), listed by an index at accountKeys.patients
 * once the resource is done. Empty when patients were not reconciled.
 */
export async function* accountPatients(
  blobs: BlobStore,
  bucket: string,
  runId: string,
): AsyncIterable<AccountPatientRef> {
  const index = await blobs.getJson(bucket, accountKeys.patients(runId), AccountPatientsIndex);
  for (let file = 0; file < (index?.files ?? 0); file++)
    yield* (await blobs.getJson(bucket, checkpointKeys.patients(runId, file), AccountPatientRefs)) ?? [];
}
