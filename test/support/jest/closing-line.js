// Jest's summary, then one closing line, `jest: N passed, N failed` (and `, N skipped` when any were),
// alone on its line: the plain form that CI machinery reads to know how many tests ran. A test file
// that failed to load counts as one failure.
import { SummaryReporter } from '@jest/reporters';

export default class ClosingLineReporter extends SummaryReporter {
  /** @param {Set<unknown>} contexts @param {import('@jest/test-result').AggregatedResult} results */
  onRunComplete(contexts, results) {
    super.onRunComplete(contexts, results);
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stderr.write(
      `jest: ${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}\n`,
    );
  }
}
