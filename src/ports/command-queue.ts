import type { CountedEntity } from '../core/entities.js';
import type { WritePayload } from '../mapping/write-payload.js';

/** The command queue port: write commands for the writers (SQS on AWS). */
export interface CommandQueue {
  send(commands: readonly WriteCommand[]): Promise<void>;
  /** Messages still to be handled, visible or in flight (approximate, as SQS reports them). */
  outstanding(): Promise<number>;
}

/** What a writer is asked to do: everything it needs, Cliniko ids of references included. */
export type WriteCommand = {
  readonly runId: string;
  readonly clinicId: string;
  /** The run's state scope (clinic and Cliniko account): where the record's id is kept. */
  readonly scope: string;
  readonly entity: CountedEntity;
  readonly sourceId: string;
  readonly file: string;
  readonly row: number;
  readonly hash: string;
  /** Which of the run's keys (Cliniko users) writes it: spreads load over their rate limits. */
  readonly keyIndex: number;
  /**
   * The key must be `keyIndex` (a treatment note is authored by its key's practitioner). Absent:
   * any key will do, and a writer takes the least loaded one (its lane).
   */
  readonly pinnedKey?: boolean;
  readonly payload: WritePayload;
  /** An earlier attempt may have created the record: re-find it before creating. */
  readonly refind?: boolean;
  /** Since when the written attachment has been waited on to finish processing in Cliniko. */
  readonly waitingSince?: string;
};

export type { WritePayload };
