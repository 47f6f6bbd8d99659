/**
 * Polls `probe` until it yields a value (or true), for things that happen in another process
 * or on a timer: a logout token reaching a receiver, a browser redirect, a port closing.
 * Bounded: fails with `what` after `timeoutMs`, never waits a deadline's length.
 */
export async function until<T>(what: string, probe: () => Promise<T | undefined | false>, timeoutMs = 5_000, everyMs = 50): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * `until` for a probe that may throw while what it asks is not up yet (a Redis node starting,
 * a cluster re-forming): a throw is one more try, and the last one's error is in the timeout's.
 */
export async function untilAnswers<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  let last: unknown;
  try {
    return await until(what, async () => {
      try {
        return await probe();
      } catch (err) {
        last = err;
        return undefined;
      }
    }, timeoutMs);
  } catch (timedOut) {
    throw last ? new Error(`${(timedOut as Error).message}: ${String(last)}`) : timedOut;
  }
}
