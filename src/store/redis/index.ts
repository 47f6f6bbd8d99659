import type { Store } from '../types.ts';
import { guardStore } from '../store-unavailable.ts';
import { createRedisAttempts } from './attempts.ts';
import { createRedisAudit } from './audit.ts';
import { COMMAND_TIMEOUT_MS, connectRedis } from './connection.ts';
import { createRedisDeliveries } from './deliveries.ts';
import { createRedisDirectory } from './directory.ts';
import { createRedisMarker } from './marker.ts';
import { createRedisMfa } from './mfa.ts';
import { createRedisModels } from './models.ts';
import { createRedisOutbox } from './outbox.ts';
import { createRedisSecrets } from './secrets.ts';
import { createRedisSessions, defineSessionScripts } from './sessions.ts';

export { COMMAND_TIMEOUT_MS };

export interface RedisStoreOptions {
  url: string;
  /** Every key lives under it; default `curfew:`. */
  prefix?: string;
  /**
   * Tests only: while `<prefix>clock:pinned` holds epoch milliseconds, the shared clock reads
   * that instead of Redis TIME, so a suite sets every instance's time at once, to the ms.
   */
  pinnableClock?: boolean;
  /** See {@link COMMAND_TIMEOUT_MS}; tests of outages shorten it. */
  commandTimeoutMs?: number;
}

/**
 * Every piece of Curfew's state in Redis, under one key prefix. Each write of one record (with
 * its indexes) is one Lua script or MULTI: atomic across instances and one round trip. TTLs
 * are Redis's own (`PX`, judged by the server), `consume` keeps the remaining TTL, and `now()`
 * is the server's TIME, the clock every instance shares. A missing Redis fails a command after
 * two reconnect attempts, a silent one after COMMAND_TIMEOUT_MS, rather than hanging it; either
 * way as StoreUnavailableError.
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const p = options.prefix ?? 'curfew:';
  const redis = connectRedis(options.url, options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS);
  const sessionRedis = defineSessionScripts(redis);
  const pinKey = options.pinnableClock ? `${p}clock:pinned` : '';
  // One boundary: a command Redis could not answer fails as StoreUnavailableError, whichever part asked.
  return guardStore<Store>({
    kind: 'redis',
    models: createRedisModels(redis, p),
    directory: createRedisDirectory(redis, p),
    secrets: createRedisSecrets(redis, p),
    marker: createRedisMarker(redis, p),
    audit: createRedisAudit(redis, p, pinKey),
    sessions: createRedisSessions(sessionRedis, p, pinKey),
    mfa: createRedisMfa(redis, p),
    deliveries: createRedisDeliveries(redis, p, pinKey),
    ended: createRedisOutbox(redis, p, pinKey),
    rateLimiter: createRedisAttempts(redis, p, pinKey),
    async now() {
      return Number(await sessionRedis.curfewNow(pinKey));
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  });
}

