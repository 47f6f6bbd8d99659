import type { Redis } from 'ioredis';
import type { StoreMarker } from '../types.ts';

/** Deletes a claim only if its holder still holds it. KEYS: claim  ARGV: holder */
const RELEASE_CLAIM = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

type MarkerRedis = Redis & { curfewReleaseClaim(claim: string, holder: string): Promise<number> };

export function createRedisMarker(client: Redis, p: string): StoreMarker {
  const redis = client as MarkerRedis;
  redis.defineCommand('curfewReleaseClaim', { numberOfKeys: 1, lua: RELEASE_CLAIM });
  const key = `${p}marker`;
  return {
    read: async () => (await redis.get(key)) ?? undefined,
    async settle(value) {
      // SET NX GET (Redis 7): one step, returns the marker that was there, or nil when ours is now.
      const held = await redis.set(key, value, 'NX', 'GET');
      return held ?? value;
    },
    async claimRestore(holder, ms) {
      return (await redis.set(`${p}marker:restore`, holder, 'PX', Math.max(1, Math.ceil(ms)), 'NX')) === 'OK';
    },
    async releaseRestore(holder) {
      await redis.curfewReleaseClaim(`${p}marker:restore`, holder);
    },
  };
}
