// The CLI keeps its state in the user's state folder (~/.local/state/cliniko-migrate) unless told
// otherwise: each test file gets a state folder of its own under the run's temporary folder, so no
// test reads another's runs or sandbox account, and none writes into the developer's own.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

process.env.CLINIKO_MIGRATE_STATE_DIR = mkdtempSync(join(tmpdir(), 'state-'));
