import type { StatusStore } from '../../src/ports/status-store.js';

/** Stands for a port method a test double does not implement: a call fails naming it. */
const unimplemented = (port: string, method: string) => (): never => {
  throw new Error(`the test's ${port} does not implement ${method}, which the code under test called`);
};

/**
 * A StatusStore every method of which fails naming itself: a test double spreads it and
 * implements what the code under test calls, typed by the port (no cast), so a change to any of
 * the port's methods, or a new one, breaks the double at compile time, and a call to a method the
 * double left out fails with that method's name instead of `undefined is not a function`.
 */
export function statusStoreDouble(): StatusStore {
  const no = (method: string) => unimplemented('status store', method);
  return {
    putRun: no('putRun'),
    getRun: no('getRun'),
    updateRunStatus: no('updateRunStatus'),
    recordDryRun: no('recordDryRun'),
    dryRunFor: no('dryRunFor'),
    addRequests: no('addRequests'),
    requests: no('requests'),
    putBatchCounts: no('putBatchCounts'),
    listBatchCounts: no('listBatchCounts'),
    putOutcomes: no('putOutcomes'),
    getOutcomes: no('getOutcomes'),
    listOutcomes: no('listOutcomes'),
    getIdMap: no('getIdMap'),
    putIdMap: no('putIdMap'),
    listIdMap: no('listIdMap'),
    listIdMapPage: no('listIdMapPage'),
    addIdMapStep: no('addIdMapStep'),
    deleteIdMap: no('deleteIdMap'),
    claim: no('claim'),
    releaseClaim: no('releaseClaim'),
    putFound: no('putFound'),
    getFound: no('getFound'),
    getFoundMany: no('getFoundMany'),
    lookupRecord: no('lookupRecord'),
    recordWrite: no('recordWrite'),
    noteAttempt: no('noteAttempt'),
    writeTotals: no('writeTotals'),
    settleWriteTotals: no('settleWriteTotals'),
    listWrites: no('listWrites'),
  };
}
