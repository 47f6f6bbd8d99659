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
