import { lane, type PlannedWrite } from '../../src/batch/native-notes.js';
import type { WriteCommand } from '../../src/ports/command-queue.js';
import type { RunInfo } from '../../src/ports/runs.js';

/**
 * A planned write → the command a writer gets: the run's ids added, and the key that writes it
 * (given, or one of the run's keys spread by source id so each user's rate limit takes a share).
 */
export function commandFor(run: RunInfo, write: PlannedWrite): WriteCommand {
  return {
    runId: run.runId,
    clinicId: run.clinicId,
    scope: run.scope,
    ...write,
    keyIndex: write.keyIndex ?? lane(write.sourceId, run.clinikoUsers.length),
  };
}
