/**
 * Unusable input or configuration: the CLI prints the message and exits 2 (docs/RUNNING.md,
 * Troubleshooting).
 */
export class UsageError extends Error {
  override name = 'UsageError';
}
