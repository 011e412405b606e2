import { describe, expect, it } from '@jest/globals';
import { formatBytes } from '../../src/core/byte-size.js';

const KB = 1024;
const MB = 1024 ** 2;
const GB = 1024 ** 3;

describe('a size in bytes as a person reads it', () => {
  it('keeps whole bytes under 1 KB', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(1023)).toBe('1023 B');
  });

  it('steps up at 1024, to one decimal for KB and MB, trailing zeros dropped', () => {
    expect(formatBytes(KB)).toBe('1 KB');
    expect(formatBytes(41_165)).toBe('40.2 KB');
    expect(formatBytes(1.5 * MB)).toBe('1.5 MB');
    expect(formatBytes(3.4 * MB)).toBe('3.4 MB');
    expect(formatBytes(MB - 1)).toBe('1 MB');
  });

  it('shows a 40 KB total as 40 KB, not as 0.0 MB', () => {
    expect(formatBytes(40 * KB)).toBe('40 KB');
  });

  it('gives GB and above two decimals, as a few GB is a common export', () => {
    expect(formatBytes(GB - 1)).toBe('1 GB');
    expect(formatBytes(GB)).toBe('1 GB');
    expect(formatBytes(1.21 * GB)).toBe('1.21 GB');
    expect(formatBytes(500 * GB)).toBe('500 GB');
    expect(formatBytes(2048 * GB)).toBe('2 TB');
    expect(formatBytes(5000 * 1024 * GB)).toBe('5,000 TB');
  });

  it('keeps the sign of a difference and refuses what is not a number', () => {
    expect(formatBytes(-1.5 * MB)).toBe('-1.5 MB');
    expect(formatBytes(1023.6)).toBe('1 KB');
    expect(() => formatBytes(Number.NaN)).toThrow(RangeError);
    expect(() => formatBytes(Number.POSITIVE_INFINITY)).toThrow(RangeError);
  });
});
