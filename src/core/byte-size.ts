const UNITS = ['KB', 'MB', 'GB', 'TB'] as const;
const STEP = 1024;

/**
 * A size in bytes as a person reads it: whole bytes under 1 KB (`0 B`, `812 B`), then KB and MB to
 * one decimal (`40.2 KB`, `3.4 MB`) and GB and TB to two (`1.21 GB`: a clinic's export is often a
 * few GB, where a tenth is 100 MB), trailing zeros dropped (`1 KB`, `1.5 MB`). Steps of 1024,
 * named KB/MB/GB as the rest of the project names them (Lambda's "128 MB", the 40 MB upload).
 * A value that would round up to 1024 of a unit is shown in the next (`1 MB`, not `1024 KB`).
 * Negative sizes (a difference) keep their sign.
 *
 * @throws RangeError when `bytes` is not a finite number.
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes)) throw new RangeError(`not a size in bytes: ${bytes}`);
  if (bytes < 0) return `-${formatBytes(-bytes)}`;
  if (Math.round(bytes) < STEP) return `${Math.round(bytes)} B`;
  let value = bytes;
  for (const [i, unit] of UNITS.entries()) {
    value /= STEP;
    const digits = i < 2 ? 1 : 2;
    const shown = Number(value.toFixed(digits));
    if (shown < STEP || i === UNITS.length - 1) return `${shown.toLocaleString('en-US')} ${unit}`;
  }
  // Unreachable: the loop returns at its last unit.
  throw new RangeError(`not a size in bytes: ${bytes}`);
}
