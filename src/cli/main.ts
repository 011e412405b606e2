import { ApiKeyError } from '../cliniko/api-key.js';
import { ClinikoAuthError, ClinikoPermissionError } from '../cliniko/errors.js';
import { ConfigError } from '../config/migration-config.js';
import { ExportRefusedError } from '../migration/scan-export.js';
import { ArchiveError } from '../source/archive.js';
import { APPROVE_USAGE, approveCommand } from './approve-command.js';
import { UsageError } from './errors.js';
import { GENERATE_USAGE, generateCommand } from './generate-command.js';
import { ApprovalError } from './local-registry.js';
import { RUN_USAGE, runCommand } from './run-command.js';
import { SANDBOX_USAGE, sandboxCommand } from './sandbox-command.js';
import { STATUS_USAGE, statusCommand } from './status-command.js';

const USAGE = `Usage: cliniko-migrate <command> [options]

Commands:
  ${RUN_USAGE}
  ${GENERATE_USAGE}
  ${SANDBOX_USAGE}
  ${STATUS_USAGE}
  ${APPROVE_USAGE}
`;

/** Returns the process exit code: 0 done, 1 a live run left records failed, 2 unusable input. */
export async function main(
  argv: string[],
  out: (line: string) => void = (l) => console.log(l),
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'run':
        return await runCommand(rest, out);
      case 'generate':
        return await generateCommand(rest, out);
      case 'sandbox':
        return await sandboxCommand(rest, out);
      case 'status':
        return await statusCommand(rest, out);
      case 'approve':
        return await approveCommand(rest, out);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`Unknown command "${command}".\n\n${USAGE}`);
    }
  } catch (err) {
    // Unusable input or configuration: a message that names what to fix, and exit 2.
    const unusable = [
      UsageError,
      ApprovalError,
      ApiKeyError,
      ConfigError,
      ArchiveError,
      ExportRefusedError,
      ClinikoAuthError,
      ClinikoPermissionError,
    ];
    if (
      unusable.some((E) => err instanceof E) ||
      (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ) {
      console.error(`cliniko-migrate: ${(err as Error).message}`);
      return 2;
    }
    throw err;
  }
}
