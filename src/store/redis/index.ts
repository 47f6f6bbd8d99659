import type { Store } from '../types.ts';
import { guardStore } from '../store-unavailable.ts';
import { publishDirectoryChanges } from '../publish-directory-changes.ts';
import { createRedisAttempts } from './attempts.ts';
import { createRedisAudit } from './audit.ts';
import { createRedisChanges } from './changes.ts';
import { COMMAND_TIMEOUT_MS, connectRedis, openSubscriber, pingWithin, type ClusterTarget, type RedisTarget, type SentinelTarget } from './connection.ts';
import { decode, int } from './decode.ts';
import { createRedisDeliveries } from './deliveries.ts';
import { createRedisDirectory } from './directory.ts';
import { clusterKeySchema, keySchema } from './keys.ts';
import { redisFunctions } from './library.ts';
import { createRedisMarker } from './marker.ts';
import { createRedisMfa } from './mfa.ts';
import { createRedisModels } from './models.ts';
import { createRedisOutbox } from './outbox.ts';
import { createRedisSecrets } from './secrets.ts';
import { createRedisSessions } from './sessions.ts';

export { COMMAND_TIMEOUT_MS };

export interface RedisStoreOptions {
  url: string;
  /** Find the primary through these sentinels (see RedisTarget); `url` then gives credentials and database. */
  sentinel?: SentinelTarget;
  /** A Redis Cluster (see RedisTarget): the cluster key schema (keys.ts), its functions loaded on every primary. */
  cluster?: ClusterTarget;
  /** Cluster key schema only: how many shards the sessions and their queues are split into (`redis.cluster.shards`). */
  shards?: number;
  /**
   * Tests only: the cluster key schema on a single server, so the sharded gathering runs
   * without a cluster. Production picks the schema by `cluster` alone.
   */
  clusterKeysOnOneServer?: boolean;
  /** Every key lives under it; default `curfew:`. */
  prefix?: string;
  /**
   * Tests only: while `<prefix>clock:pinned` holds epoch milliseconds, the shared clock reads
   * that instead of Redis TIME, so a suite sets every instance's time at once, to the ms.
   */
  pinnableClock?: boolean;
  /** See {@link COMMAND_TIMEOUT_MS}; tests of outages shorten it. */
  commandTimeoutMs?: number;
  /** How long a session record stays readable past its absolute deadline (`redis.sessionRetainSeconds`); default a day. */
  sessionRetainMs?: number;
}

/** A day: long enough for a sweeper back from any plausible outage to still see what it ends. */
export const SESSION_RETAIN_MS = 86_400_000;

/**
 * Every piece of Curfew's state in Redis, under one key prefix (keys.ts names every key). Each
 * write of one record (with its indexes) is one call of a function of Curfew's Lua library
 * (library.ts, lua/) or one MULTI: atomic across instances and one round trip. TTLs
 * are Redis's own (`PX`, judged by the server), `consume` keeps the remaining TTL, and `now()`
 * is the server's TIME, the clock every instance shares. A missing Redis fails a command after
 * two reconnect attempts, a silent one after COMMAND_TIMEOUT_MS, rather than hanging it; either
 * way as StoreUnavailableError.
 */
export function createRedisStore(options: RedisStoreOptions): Store {
  const p = options.prefix ?? 'curfew:';
  const target: RedisTarget = { url: options.url, ...(options.sentinel ? { sentinel: options.sentinel } : {}), ...(options.cluster ? { cluster: options.cluster } : {}) };
  const pinnableClock = options.pinnableClock ?? false;
  // Checked before connecting: a prefix that breaks the hash tags must not open anything.
  const k = options.cluster || options.clusterKeysOnOneServer ? clusterKeySchema(p, { pinnableClock, ...(options.shards ? { shards: options.shards } : {}) }) : keySchema(p, { pinnableClock });
  const commandTimeout = options.commandTimeoutMs ?? COMMAND_TIMEOUT_MS;
  const redis = connectRedis(target, commandTimeout);
  // Tests only: on a cluster the pin is read here and handed to each function, one round trip more per call (library.ts).
  const fn = redisFunctions(redis, !k.clockPin ? { kind: 'none' } : options.cluster ? { kind: 'read', key: k.clockPin } : { kind: 'key', key: k.clockPin });
  // A pub/sub channel, not a key: it needs no slot, and one prefix's instances share it.
  const changes = createRedisChanges(redis, (subscriberOptions) => openSubscriber(redis, target, subscriberOptions), `${p}changes`);
  // One boundary: a command Redis could not answer fails as StoreUnavailableError, whichever part asked.
  return guardStore<Store>({
    kind: 'redis',
    models: createRedisModels(redis, fn, k),
    directory: publishDirectoryChanges(createRedisDirectory(redis, fn, k), changes),
    secrets: createRedisSecrets(redis, k),
    marker: createRedisMarker(redis, fn, k),
    audit: createRedisAudit(redis, fn, k),
    sessions: createRedisSessions(redis, fn, k, options.sessionRetainMs ?? SESSION_RETAIN_MS),
    mfa: createRedisMfa(redis, fn, k),
    deliveries: createRedisDeliveries(redis, fn, k),
    ended: createRedisOutbox(redis, fn, k),
    changes,
    rateLimiter: createRedisAttempts(redis, fn, k),
    async now() {
      return decode(int, await fn('now', []), 'now');
    },
    async ping() {
      // On a cluster PING reaches one node (a cluster that is down answers CLUSTERDOWN there too).
      await pingWithin(redis, commandTimeout);
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  });
}

