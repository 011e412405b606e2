import type { CommandQueue, WriteCommand } from '../../ports/command-queue.js';

/**
 * The command queue of a run with no writer (the in-process dry run): a dry run decides what a
 * writer would do (src/batch/write-decision.ts) and sends it nothing, so a command sent here is a
 * fault of the run, refused at once rather than dropped unseen.
 */
export class DryCommandQueue implements CommandQueue {
  async send(commands: readonly WriteCommand[]): Promise<void> {
    if (commands.length)
      throw new Error(`a dry run has no writer: ${commands.length} write commands were sent`);
  }

  async outstanding(): Promise<number> {
    return 0;
  }
}
