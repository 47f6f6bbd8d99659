import { describe, expect, it } from 'vitest';
import { isPermanentFailure, retryDelayMs } from '../../src/logout/backoff.ts';

describe('retryDelayMs', () => {
  const lowest = () => 0;
  const highest = () => 1;

  it('waits between half and all of base·2^(n-1) for attempt n', () => {
    for (const [attempt, ceiling] of [[1, 1000], [2, 2000], [3, 4000], [4, 8000]] as const) {
      expect(retryDelayMs(attempt, 1000, 300_000, lowest), `attempt ${attempt}`).toBe(ceiling / 2);
      expect(retryDelayMs(attempt, 1000, 300_000, highest), `attempt ${attempt}`).toBe(ceiling);
      expect(retryDelayMs(attempt, 1000, 300_000, () => 0.5), `attempt ${attempt}`).toBe((ceiling * 3) / 4);
    }
  });

  it('never exceeds the cap, however many attempts', () => {
    expect(retryDelayMs(10, 1000, 300_000, highest)).toBe(300_000);
    expect(retryDelayMs(10, 1000, 300_000, lowest)).toBe(150_000);
    expect(retryDelayMs(1000, 1000, 300_000, highest)).toBe(300_000);
  });

  it('treats an attempt below 1 as the first', () => {
    expect(retryDelayMs(0, 1000, 300_000, highest)).toBe(1000);
  });

  it('spreads real jitter over the whole range', () => {
    const delays = Array.from({ length: 500 }, () => retryDelayMs(3, 1000, 300_000));
    for (const d of delays) {
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
    expect(new Set(delays).size).toBeGreaterThan(100);
  });
});

describe('isPermanentFailure (SPEC §9)', () => {
  it('gives up on a 4xx other than 408 and 429', () => {
    for (const status of [400, 401, 403, 404, 410, 499]) expect(isPermanentFailure(status), String(status)).toBe(true);
  });

  it('retries 408, 429, 5xx and anything outside 4xx', () => {
    for (const status of [408, 429, 500, 502, 503, 504, 200, 301, 399, 500]) expect(isPermanentFailure(status), String(status)).toBe(false);
  });
});
