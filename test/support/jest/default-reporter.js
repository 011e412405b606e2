// Jest's per-file output without its summary: `closing-line.js` prints the summary, then the line CI reads.
export { DefaultReporter as default } from '@jest/reporters';
