/** Unusable input or configuration: the CLI prints the message and exits 2 (CONTRACT.md). */
export class UsageError extends Error {
  override name = 'UsageError';
}
