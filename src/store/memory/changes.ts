import type { ChangeFeed, ChangeListener } from '../types.ts';

/**
 * The change feed of one process: its subscribers are all the instances there are, so nothing
 * can be missed and the feed never drops (a subscriber's only reset is the first, live).
 */
export function createMemoryChanges(): ChangeFeed {
  const listeners = new Set<ChangeListener>();
  return {
    async publish(change) {
      for (const listener of listeners) listener.changed(change);
    },
    async subscribe(listener) {
      listeners.add(listener);
      listener.reset(true);
      return {
        async close() {
          listeners.delete(listener);
        },
      };
    },
  };
}
