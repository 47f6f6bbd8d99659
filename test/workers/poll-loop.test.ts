import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
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
});
