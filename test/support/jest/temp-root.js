// Every test, the code under test and the programs the tests start write their temporary files
// under one folder made for this run inside the OS temp dir (TMPDIR points there, so os.tmpdir()
// answers it in every worker and child process); the run removes it when it ends, passed or failed.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT_ENV = 'CLINIKO_MIGRATE_TEST_TMP';

export function setup() {
  const root = mkdtempSync(join(tmpdir(), 'cliniko-migrate-test-'));
  process.env[ROOT_ENV] = root;
  process.env.TMPDIR = root;
}

export function teardown() {
  const root = process.env[ROOT_ENV];
  if (root) rmSync(root, { recursive: true, force: true });
}
