import type { Claims, Findings, IdMap } from './id-map.js';
import type { OutcomeStore } from './outcomes.js';
import type { DryRunRegistry, RequestCounter, RunStore } from './runs.js';
import type { WriteLedger } from './write-ledger.js';

/**
 * Every port the status table serves (one DynamoDB table on AWS): what the composition roots
 * (lambdas/shared/runtime.ts, the CLI) build. A step asks only for the ports it uses.
 */
export type StatusStore = RunStore &
  DryRunRegistry &
  RequestCounter &
  OutcomeStore &
  IdMap &
  Claims &
  Findings &
  WriteLedger;
