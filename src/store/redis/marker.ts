import type { StoreMarker } from '../types.ts';
import type { KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';
import type { RedisClient } from './connection.ts';

/** The deployment's marker and the claim on restoring a wiped store (lua/marker.lua). */
export function createRedisMarker(redis: RedisClient, fn: FunctionCall, k: KeySchema): StoreMarker {
  return {
    read: async () => (await redis.get(k.marker)) ?? undefined,
    async settle(value) {
      // SET NX GET (Redis 7): one step, returns the marker that was there, or nil when ours is now.
      const held = await redis.set(k.marker, value, 'NX', 'GET');
      return held ?? value;
    },
    async claimRestore(holder, ms) {
      return (await redis.set(k.markerRestore, holder, 'PX', Math.max(1, Math.ceil(ms)), 'NX')) === 'OK';
    },
    async releaseRestore(holder) {
      await fn('claim_release', [k.markerRestore], [holder]);
    },
  };
}
