import { describe, expect, it } from 'vitest';
import { DEFAULT_BACKOFF, restartDelay } from '../src/cluster.ts';

describe('restart backoff of a dead worker', () => {
  it('doubles from the base, is capped, and gives up after the bound', () => {
    const b = { ...DEFAULT_BACKOFF, baseMs: 500, maxMs: 4_000, maxFailures: 5 };
    expect([1, 2, 3, 4, 5].map((n) => restartDelay(n, b))).toEqual([500, 1_000, 2_000, 4_000, 4_000]);
    expect(restartDelay(6, b)).toBeUndefined();
  });

  it('by default: 0.5 s, then 1, 2, 4, 8 s, then gives up', () => {
    expect([1, 2, 3, 4, 5, 6].map((n) => restartDelay(n, DEFAULT_BACKOFF))).toEqual([500, 1_000, 2_000, 4_000, 8_000, undefined]);
  });
});
