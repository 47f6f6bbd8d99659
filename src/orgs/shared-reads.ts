import type { DirectoryStore } from './store.ts';

/** The directory reads every end of a wave makes: its org (step-up) and its clients (logout tokens). */
export type EndReads = Pick<DirectoryStore, 'getOrg' | 'getClient' | 'getClientTombstone'>;

/**
 * Concurrent identical reads share one round trip: a call for a key that is already being read
 * waits for that read instead of sending its own. Nothing is kept once the read settles, so
 * no answer is older than the read that was in flight when it was asked for — a wave of 500
 * ends asking for the same two clients and one org makes a handful of reads, not 1 500
 * (issue 14), and a change to the directory is seen by the next read as before.
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

/** The directory with its end-of-session reads shared while in flight (see {@link singleFlight}). */
export function sharedEndReads(directory: EndReads): EndReads {
  return {
    getOrg: singleFlight((id) => directory.getOrg(id)),
    getClient: singleFlight((id) => directory.getClient(id)),
    getClientTombstone: singleFlight((id) => directory.getClientTombstone(id)),
  };
}
