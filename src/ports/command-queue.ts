import type { WriteCommand, WritePayload } from '../mapping/write-payload.js';

/** The command queue port: write commands for the writers (SQS on AWS). */
export interface CommandQueue {
  send(commands: readonly WriteCommand[]): Promise<void>;
  /** Messages still to be handled, visible or in flight (approximate, as SQS reports them). */
  outstanding(): Promise<number>;
}

/** The command's type sits beside its schema (WriteCommandSchema, src/mapping/write-payload.ts). */
export type { WriteCommand } from '../mapping/write-payload.js';
export type { WritePayload };
