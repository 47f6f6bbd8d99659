import type { Clock } from '../../clock.ts';
import type { StoreMarker } from '../types.ts';

/** A process's memory is never wiped while the process lives: the marker, once settled, stays. */
export function createMemoryMarker(clock: Clock): StoreMarker {
  let marker: string | undefined;
  let claimedUntil = -Infinity;
  let claimant: string | undefined;
  return {
    read: async () => marker,
    async settle(value) {
      marker ??= value;
      return marker;
    },
    async claimRestore(holder, ms) {
      // Synchronous check-and-set, as the Redis SET NX PX.
      const now = clock.now();
      if (now < claimedUntil) return false;
      claimedUntil = now + ms;
      claimant = holder;
      return true;
    },
    async releaseRestore(holder) {
      if (claimant === holder) claimedUntil = -Infinity;
    },
  };
}
