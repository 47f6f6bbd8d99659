/**
 * Concurrent identical reads share one round trip: a call for a key that is already being read
 * waits for that read instead of sending its own. Nothing is kept once the read settles, so no
 * answer is older than the read that was in flight when it was asked for (at most one round
 * trip), a change is seen by the next read as before, and one caller's successive reads never
 * go back in time (a later call never joins a read issued before its earlier one settled).
 * A wave of 500 ends asking for the same two clients, one org and the clock makes a handful of
 * reads instead of 2 500 (issue 14).
 *
 * Callers share the answer object: only for readers that do not modify what they get.
 */
export function singleFlight<R>(read: (key: string) => Promise<R>): (key: string) => Promise<R> {
  const inFlight = new Map<string, Promise<R>>();
  return (key) => {
    let found = inFlight.get(key);
    if (!found) {
      found = read(key);
      inFlight.set(key, found);
      const forget = () => inFlight.delete(key);
      found.then(forget, forget);
    }
    return found;
  };
}
