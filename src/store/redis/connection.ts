import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** A Sentinel deployment: the sentinels to ask, and the name they know the primary by. */
export interface SentinelTarget {
  /** `host:port` of each sentinel; any one that answers is enough. */
  hosts: string[];
  /** The primary's name in the sentinels' configuration (`sentinel monitor <name> …`). */
  name: string;
  /** The sentinels' own password (`requirepass` of the sentinels), if they have one. */
  password?: string;
}

/** A Redis Cluster: seed nodes to learn the cluster's layout from (any one that answers is enough). */
export interface ClusterTarget {
  /** `host:port` of each seed node. */
  nodes: string[];
}

/**
 * Where Curfew's Redis is. `url` alone: that server. With `sentinel`: the primary the sentinels
 * name, found again after every failover; with `cluster`: the Redis Cluster the seed nodes
 * belong to. Either way the URL then gives only the credentials and TLS of the data
 * connections (its host and port are not used; a cluster has database 0 only).
 */
export interface RedisTarget {
  url: string;
  sentinel?: SentinelTarget;
  cluster?: ClusterTarget;
}

/** A connection to one server (standalone, Sentinel) or to a whole cluster: the store uses the commands both share. */
export type RedisClient = Redis | Cluster;

/** The name every Curfew connection gives itself (CLIENT SETNAME). */
export const CONNECTION_NAME = 'curfew';

/** `host:port` or `[v6]:port` → ioredis' address of a sentinel or cluster node; the config schema has checked the shape. */
export function parseSentinelAddress(address: string): { host: string; port: number } {
  const at = address.lastIndexOf(':');
  const host = address.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return { host, port: Number(address.slice(at + 1)) };
}

/**
 * The one place a Redis connection is opened, so every connection (the store's, a test's clock,
 * anything added later) follows a failover the same way.
 *
 * With Sentinel, ioredis asks the sentinels for the primary on every (re)connect, and Sentinel
 * disconnects the clients of a demoted primary, so a failover is a reconnect to the new one. A
 * write that still reaches a primary just turned replica answers READONLY: reconnecting and
 * resending it (2) lands it on the new primary instead of failing the request. The Lua
 * functions need nothing more: a function library is replicated with the data, so a promoted
 * replica has it, and one that does not (a primary restarted empty) gets it from the first
 * call that misses it (library.ts).
 */
export function openRedis(target: RedisTarget & { cluster?: undefined }, options?: RedisOptions): Redis;
export function openRedis(target: RedisTarget, options?: RedisOptions): RedisClient;
export function openRedis(target: RedisTarget, options: RedisOptions = {}): RedisClient {
  // Named, so an operator's CLIENT LIST (and a failover test) tells Curfew's connections apart.
  const named: RedisOptions = { connectionName: CONNECTION_NAME, ...options };
  if (target.cluster) return openCluster(target.url, target.cluster, named);
  if (!target.sentinel) return new Redis(target.url, named);
  const { hosts, name, password } = target.sentinel;
  return new Redis(target.url, {
    ...named,
    sentinels: hosts.map(parseSentinelAddress),
    name,
    ...(password !== undefined ? { sentinelPassword: password } : {}),
    // A rediss:// URL asks for TLS to the data nodes the sentinels name, not only to the URL's host.
    ...(target.url.startsWith('rediss:') ? { enableTLSForSentinelMode: true } : {}),
    // Subscribes to the sentinels' +switch-master, so a failover is followed at once, not on the
    // next error.
    failoverDetector: true,
    reconnectOnError: (err) => (err.message.startsWith('READONLY') ? 2 : false),
  });
}

/**
 * A Redis Cluster client: ioredis learns the slots from the seed nodes, sends each command to
 * the primary of its key's slot, follows MOVED/ASK, and refreshes the layout after a failover.
 * Every node connection gets the URL's credentials and TLS and the same per-command options
 * (name, timeout, retries) as a single-server connection; a cluster that is down or
 * resharding fails a command after a few retries, as StoreUnavailableError (503), never hangs it.
 */
function openCluster(url: string, cluster: ClusterTarget, options: RedisOptions): Cluster {
  const parsed = new URL(url);
  const db = parsed.pathname.replace(/^\//, '');
  if (db !== '' && db !== '0') throw new Error(`a Redis Cluster has database 0 only; REDIS_URL names database ${db}`);
  const { enableOfflineQueue, lazyConnect, ...node } = options;
  const clusterOptions: ClusterOptions = {
    redisOptions: {
      ...node,
      ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
      ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
      ...(parsed.protocol === 'rediss:' ? { tls: {} } : {}),
    },
    ...(enableOfflineQueue !== undefined ? { enableOfflineQueue } : {}),
    ...(lazyConnect !== undefined ? { lazyConnect } : {}),
    // A command to a slot whose primary just failed is retried shortly on the refreshed layout
    // (up to maxRedirections times) instead of failing the request at once.
    retryDelayOnFailover: 100,
    retryDelayOnClusterDown: 100,
    retryDelayOnTryAgain: 100,
    maxRedirections: 8,
    slotsRefreshTimeout: 2_000,
  };
  const client = new Cluster(cluster.nodes.map(parseSentinelAddress), clusterOptions);
  // A cluster client queues commands while it has no node at all, and (unlike one server's
  // connection) gives them no timeout: a cluster that went down would hold every request until
  // it is back. So commands queue only until the cluster is first ready (the first request's,
  // sent at start); after that, a command with no node to go to fails at once, as
  // StoreUnavailableError (503). `ping` bounds the wait at start (see pingWithin).
  if (clusterOptions.enableOfflineQueue !== false) client.once('ready', () => {
    client.options.enableOfflineQueue = false;
  });
  return client;
}

/**
 * A connection to subscribe on (the change feed, changes.ts), opened only when asked for: a
 * subscribed connection can send nothing else. One server or Sentinel: a duplicate of the
 * store's own (same target, credentials, database, TLS). A cluster: a plain connection to its
 * first seed node — Redis Cluster hands every PUBLISH to every node, so one node hears them all,
 * and a plain connection's drop is seen as one (ioredis' cluster subscriber moves between nodes
 * silently, hiding the gap the feed must report). While that node is down the feed is down, and
 * what relies on it (the directory cache) reads the store instead.
 */
export function openSubscriber(redis: RedisClient, target: RedisTarget, options: RedisOptions): Redis {
  if (!(redis instanceof Cluster)) return redis.duplicate(options);
  const url = new URL(target.url);
  const seed = parseSentinelAddress(target.cluster?.nodes[0] ?? '');
  return new Redis({
    connectionName: CONNECTION_NAME,
    host: seed.host,
    port: seed.port,
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
    ...options,
  });
}

/**
 * PING, failing after `ms`: on a cluster that never answered, a queued PING would wait forever
 * (see openCluster), and readiness must answer.
 */
export async function pingWithin(redis: RedisClient, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('Command timed out')), ms);
  });
  try {
    await Promise.race([redis.ping(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** For messages: where the store is, without credentials. */
export function describeTarget(target: RedisTarget): string {
  if (target.cluster) return `the Redis Cluster of ${target.cluster.nodes.join(',')}`;
  return target.sentinel
    ? `the primary '${target.sentinel.name}' of sentinels ${target.sentinel.hosts.join(',')}`
    : `Redis at ${new URL(target.url).host}`;
}

/**
 * How long one command may wait for its answer. A frozen network (no reset, no close) would
 * otherwise hold a command, and the request behind it, forever; past this the request answers
 * 503 temporarily_unavailable. Every command Curfew sends is O(small) and non-blocking.
 */
export const COMMAND_TIMEOUT_MS = 2_000;

/**
 * The store's connection, opened by {@link openRedis}: every sub-store shares this client (and
 * its function library). Connection errors surface through the failing commands, as StoreUnavailableError.
 */
export function connectRedis(target: RedisTarget, commandTimeout: number): RedisClient {
  const redis = openRedis(target, {
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
