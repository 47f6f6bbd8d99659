import { Redis } from 'ioredis';

/**
 * How long one command may wait for its answer. A frozen network (no reset, no close) would
 * otherwise hold a command, and the request behind it, forever; past this the request answers
 * 503 temporarily_unavailable. Every command Curfew sends is O(small) and non-blocking.
 */
export const COMMAND_TIMEOUT_MS = 2_000;

/**
 * The one place the Redis store gets its connection: every sub-store shares this client (and
 * its function library). Connection errors surface through the failing commands, as StoreUnavailableError.
 */
export function connectRedis(url: string, commandTimeout: number): Redis {
  const redis = new Redis(url, {
    // A request fails after two reconnect attempts instead of waiting forever: a dead Redis
    // must surface as an error (and /readyz 503), not a hung sign-in. The offline queue stays
    // on so the commands of the first request, sent before the socket is up, are not refused.
    maxRetriesPerRequest: 2,
    enableOfflineQueue: true,
    connectTimeout: 5_000,
    commandTimeout,
    lazyConnect: false,
  });
  redis.on('error', () => {
    // Connection errors are reported through the failing commands; ioredis reconnects itself.
  });
  return redis;
}
