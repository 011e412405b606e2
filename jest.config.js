// Jest runs the TypeScript sources as native ES modules (`node --experimental-vm-modules`, see the
// `test` script), compiled file by file by SWC without type checking (`npm run typecheck` does that).

// Handlers log retries as warnings for operators; in tests the assertions say what matters.
// The SDK's notice about Node 20 support is for operators (the CLI silences it too).
process.env.POWERTOOLS_LOG_LEVEL ??= 'ERROR';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/** @type {import('jest').Config} */
export default {
  testMatch: ['<rootDir>/test/**/*.test.ts'],
  extensionsToTreatAsEsm: ['.ts'],
  // Sources import each other as `./x.js` (NodeNext); the file on disk is `./x.ts`.
  moduleNameMapper: { '^(\\.{1,2}/.*)\\.js$': '$1' },
  transform: {
    '^.+\\.ts$': [
      '@swc/jest',
      {
        jsc: {
          parser: { syntax: 'typescript' },
          target: 'es2022',
          experimental: { keepImportAttributes: true },
        },
        module: { type: 'es6' },
        sourceMaps: 'inline',
      },
    ],
  },
  // Temporary files go under one folder of the OS temp dir, removed when the run ends.
  globalSetup: '<rootDir>/test/support/jest/global-setup.js',
  globalTeardown: '<rootDir>/test/support/jest/global-teardown.js',
  // Each test file's own CLI state folder (CLINIKO_MIGRATE_STATE_DIR).
  setupFiles: ['<rootDir>/test/support/jest/state-dir.js'],
  // Contract and end-to-end tests start real servers; keep the two cores from thrashing.
  maxWorkers: 2,
  testTimeout: 30_000,
  // Jest's own output and summary, then the plain `N passed, N failed` line that CI reads.
  reporters: [
    '<rootDir>/test/support/jest/default-reporter.js',
    '<rootDir>/test/support/jest/closing-line.js',
  ],
};
