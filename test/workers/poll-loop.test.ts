import { Writable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { pollLoop } from '../../src/workers/poll-loop.ts';

function logger() {
  const lines: string[] = [];
  return { lines, logger: createLogger('error', new Writable({ write: (c, _e, done) => (lines.push(String(c)), done()) })) };
}

describe('poll loop', () => {
  it('ticks again at once while a tick takes a full batch, and waits idleMs after a short one', async () => {
    const { logger: log } = logger();
    const taken = [5, 5, 1, 0];
    const at: number[] = [];
    const loop = pollLoop(async () => {
      at.push(performance.now());
      return taken.shift() ?? 0;
    }, { batch: 5, idleMs: 200, logger: log, what: 'test' });
    loop.start();
    await expect.poll(() => at.length, { timeout: 5_000 }).toBeGreaterThanOrEqual(4);
    await loop.stop();
    // Full batches: no wait before the next tick. Short batch: at least idleMs before the next.
    expect(at[1]! - at[0]!).toBeLessThan(150);
    expect(at[2]! - at[1]!).toBeLessThan(150);
    expect(at[3]! - at[2]!).toBeGreaterThanOrEqual(195);
  });

  it('logs a failing tick by name and keeps going', async () => {
    const { logger: log, lines } = logger();
    let calls = 0;
    const loop = pollLoop(async () => {
      calls++;
      if (calls === 1) throw new Error('boom');
      return 0;
    }, { batch: 5, idleMs: 10, logger: log, what: 'claiming things' });
    loop.start();
    await expect.poll(() => calls, { timeout: 5_000 }).toBeGreaterThanOrEqual(2);
    await loop.stop();
    expect(lines.join('')).toContain('claiming things failed');
  });

  it('starts once however often started, and stops after the tick in progress', async () => {
    const { logger: log } = logger();
    let inFlight = 0;
    let most = 0;
    let finished = 0;
    const loop = pollLoop(async () => {
      inFlight++;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 30));
      inFlight--;
      finished++;
      return 0;
    }, { batch: 1, idleMs: 1, logger: log, what: 'test' });
    loop.start();
    loop.start();
    await expect.poll(() => finished, { timeout: 5_000 }).toBeGreaterThanOrEqual(1);
    await loop.stop();
    const after = finished;
    expect(inFlight).toBe(0);
    expect(most).toBe(1);
    await new Promise((r) => setTimeout(r, 60));
    expect(finished).toBe(after);
  });

  describe('waking', () => {
    afterEach(() => {
      vi.useRealTimers();
    });

    it('ticks at once on a wake instead of waiting idleMs, and a wake during a tick ticks again right after it', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { logger: log } = logger();
      let ticks = 0;
      let hold: (() => void) | undefined;
      const loop = pollLoop(async () => {
        ticks++;
        if (ticks === 3) await new Promise<void>((r) => (hold = r));
        return 0;
      }, { batch: 5, idleMs: 60_000, logger: log, what: 'test' });
      loop.start();
      await vi.advanceTimersByTimeAsync(0);
      expect(ticks).toBe(1);
      // No time passes: only the wake can cause the next tick.
      loop.wake();
      await vi.advanceTimersByTimeAsync(0);
      expect(ticks).toBe(2);
      loop.wake();
      await vi.advanceTimersByTimeAsync(0);
      expect(ticks).toBe(3);
      // A wake while tick 3 runs (it may have looked before what woke it was there).
      loop.wake();
      hold!();
      await vi.advanceTimersByTimeAsync(0);
      expect(ticks).toBe(4);
      // Without a wake, it waits idleMs.
      await vi.advanceTimersByTimeAsync(59_999);
      expect(ticks).toBe(4);
      await vi.advanceTimersByTimeAsync(1);
      expect(ticks).toBe(5);
      await loop.stop();
    });

    it('asks idleMs anew after each short tick, and stop cuts an idle wait short', async () => {
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      const { logger: log } = logger();
      const waits = [30, 10, 60_000];
      let ticks = 0;
      const loop = pollLoop(async () => (ticks++, 0), { batch: 5, idleMs: () => waits.shift() ?? 60_000, logger: log, what: 'test' });
      loop.start();
      await vi.advanceTimersByTimeAsync(29);
      expect(ticks).toBe(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(ticks).toBe(2);
      await vi.advanceTimersByTimeAsync(10);
      expect(ticks).toBe(3);
      let stopped = false;
      void loop.stop().then(() => (stopped = true));
      await vi.advanceTimersByTimeAsync(0);
      expect(stopped).toBe(true);
      expect(vi.getTimerCount()).toBe(0);
      expect(ticks).toBe(3);
    });
  });
});
