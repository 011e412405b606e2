import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CountedEntity } from '../core/entities.js';
import type { ResourceName } from './resources.js';

/**
 * Reconciliation of an account of any size (issue 22): one resource is read page by page over as
 * many invocations as it takes, each stopping well before its timeout, and never held whole in
 * memory. What one invocation learns is spilled to the bucket in partitions (a record's partition
 * is a hash of its Cliniko id), and the account's records are matched against the id map one
 * partition at a time: memory holds one partition (about PARTITION_RECORDS records), whatever the
 * account's size. Where an invocation stopped is the checkpoint, kept in the bucket.
 */

/** Records of the account held in memory at once: one partition's. */
export const PARTITION_RECORDS = 20_000;

/** How many partitions a resource of `totalEntries` records is spread over (Cliniko's `total_entries`). */
export const partitionsFor = (totalEntries: number, perPartition = PARTITION_RECORDS): number =>
  Math.max(1, Math.ceil(totalEntries / perPartition));

/** The partition of a Cliniko id, of `partitions`. */
export function partitionOf(clinikoId: string, partitions: number): number {
  if (partitions <= 1) return 0;
  return Number.parseInt(createHash('md5').update(clinikoId).digest('hex').slice(0, 8), 16) % partitions;
}

/** A record of the account as a partition keeps it: Cliniko id, live (1) or not, natural key hash (or ''). */
export const AccountRows = z.array(z.tuple([z.string(), z.union([z.literal(0), z.literal(1)]), z.string()]));
export type AccountRow = z.output<typeof AccountRows>[number];

/** An id-map entry as a partition keeps it: entity, source id, Cliniko id, the run that wrote it. */
export const IdRows = z.array(z.tuple([CountedEntity, z.string(), z.string(), z.string()]));
export type IdRow = z.output<typeof IdRows>[number];

const count = z.number().int().nonnegative();

/** Where reconciliation of one resource stands, between invocations. */
export const ReconcileCheckpoint = z.object({
  /** read the account, then list the id map, then match partition by partition. */
  step: z.enum(['read', 'idmap', 'join', 'done']),
  /** Fixed by the first page read (its total_entries). */
  partitions: z.number().int().positive(),
  /** How the account is read: every page, or one filtered list per migrated patient. */
  readBy: z.enum(['pages', 'patients']),
  /** The next page to read (pages), absent before the first; the next migrated patient (patients). */
  nextPage: z.string().optional(),
  nextPatient: count,
  /** Files written per partition: the account's records, and the id map's entries. */
  accountFiles: z.array(count),
  idFiles: z.array(count),
  /** Files of the account's live patients written so far (patients only). */
  patientFiles: count,
  /** The id map's listing: which entity of the resource, and where in it. */
  idEntity: count,
  idCursor: z.string().optional(),
  /** The next partition to match. */
  joinPartition: count,
  read: count,
  requests: count,
  notInCliniko: count,
  found: count,
  invocations: count,
});
export type ReconcileCheckpoint = z.output<typeof ReconcileCheckpoint>;

/** Where reconciliation of a resource keeps its checkpoint and partitions (under the run's work/). */
export const checkpointKeys = {
  checkpoint: (runId: string, name: ResourceName) => `work/${runId}/account/${name}/checkpoint.json`,
  account: (runId: string, name: ResourceName, partition: number, file: number) =>
    `work/${runId}/account/${name}/records-${partition}-${file}.json`,
  idMap: (runId: string, name: ResourceName, partition: number, file: number) =>
    `work/${runId}/account/${name}/ids-${partition}-${file}.json`,
  problems: (runId: string, name: ResourceName, partition: number) =>
    `work/${runId}/account/${name}/problems-${partition}.json`,
  patients: (runId: string, file: number) => `work/${runId}/account/patients/${file}.json`,
};
