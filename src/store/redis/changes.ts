import type { Redis, RedisOptions } from 'ioredis';
import type { RedisClient } from './connection.ts';
import type { ChangeFeed, DirectoryChange } from '../types.ts';

const KINDS = new Set<string>(['client', 'user', 'org']);

/** A message as published by this module, or undefined for anything else on the channel. */
function parseChange(message: string): DirectoryChange | undefined {
  try {
    const value: unknown = JSON.parse(message);
    if (typeof value !== 'object' || value === null) return undefined;
    const { kind, id } = value as Record<string, unknown>;
    return typeof kind === 'string' && KINDS.has(kind) && typeof id === 'string' ? { kind: kind as DirectoryChange['kind'], id } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The change feed over Redis pub/sub on `channel`. Each subscription holds a connection of its
 * own, from `openSubscriber` (connection.ts: a duplicate of the store's — one node, the primary
 * the sentinels name — or on a cluster a connection to one node, which hears every publish; its
 * credentials, database and TLS). Pub/sub delivers at most once and forgets what a
 * disconnected subscriber missed, so the listener is told of every gap: `reset(false)` when the
 * connection drops, `reset(true)` once it is subscribed again (re-subscribing is done here, not
 * by ioredis, so the moment the feed is live again is known). A message that is not a change
 * (another writer's format) resets too: a change misread must never pass as no change.
 */
export function createRedisChanges(redis: RedisClient, openSubscriber: (options: RedisOptions) => Redis, channel: string): ChangeFeed {
  return {
    async publish(change) {
      await redis.publish(channel, JSON.stringify(change));
    },
    async subscribe(listener) {
      const sub = openSubscriber({ autoResubscribe: false, lazyConnect: true, enableOfflineQueue: true });
      let live = false;
      let closing = false;
      let firstLive: () => void = () => {};
      const subscribed = new Promise<void>((resolve) => (firstLive = resolve));
      sub.on('error', () => {
        // The connection's errors end in 'close'; ioredis reconnects by itself.
      });
      sub.on('ready', () => {
        sub.subscribe(channel).then(
          () => {
            if (closing) return;
            live = true;
            listener.reset(true);
            firstLive();
          },
          // Not subscribed on a ready connection: reconnect, and subscribe again on its 'ready'.
          () => sub.disconnect(true),
        );
      });
      sub.on('close', () => {
        if (!live) return;
        live = false;
        listener.reset(false);
      });
      sub.on('message', (from: string, message: string) => {
        if (from !== channel || !live) return;
        const change = parseChange(message);
        if (change) listener.changed(change);
        else listener.reset(true);
      });
      // Not reachable now (Redis, or on a cluster the seed node, down at start): the subscription
      // is handed out all the same, not live — what relies on it reads the store meanwhile — and
      // ioredis keeps reconnecting; the first 'ready' subscribes and says the feed is live.
      const connected = await sub.connect().then(() => true, () => false);
      if (connected) await subscribed;
      return {
        async close() {
          closing = true;
          live = false;
          if (sub.status === 'ready') await sub.quit().catch(() => sub.disconnect());
          else sub.disconnect();
        },
      };
    },
  };
}
