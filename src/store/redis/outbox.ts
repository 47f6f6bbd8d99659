import type { LogoutOutbox } from '../types.ts';
import type { EndedEntry } from '../../sessions/types.ts';
import type { RedisClient } from './connection.ts';
import { decode, endedEntry, int, ReplyShapeError, strings } from './decode.ts';
import { keyTemplate, type KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';
import { allShards, claimEarliest, peekQueue } from './shards.ts';

/**
 * The ended-sessions outbox (lua/outbox.lua). Entries are appended by the session functions'
 * ends (append_ended); these functions claim, queue and complete them. An entry lives in its
 * id's shard (keys.ts), with its due queue and the deliveries it queues.
 */
export function createRedisOutbox(redis: RedisClient, fn: FunctionCall, k: KeySchema): LogoutOutbox {
  let rotation = 0;
  const claimShard = async (shard: number, limit: number, leaseMs: number) => {
    const [now, ...flat] = decode(strings, await fn('outbox_claim', [k.endedDue(shard)], [limit, leaseMs, keyTemplate((id) => k.ended(id, shard))]), 'outbox_claim');
    if (flat.length % 2 !== 0) throw new ReplyShapeError('outbox_claim', 'pairs of (queued, entry)', flat);
    const entries: EndedEntry[] = [];
    for (let i = 0; i < flat.length; i += 2) entries.push(endedEntry(flat[i + 1], flat[i], `outbox_claim[${i + 1}]`));
    return { items: entries, now: decode(int, now, 'outbox_claim[0]') };
  };
  return {
    async append(entry, leaseMs) {
      const shard = k.shardOfId(entry.id);
      const reply = decode(strings, await fn('outbox_append', [k.ended(entry.id, shard), k.endedDue(shard)], [JSON.stringify(entry), leaseMs]), 'outbox_append');
      return endedEntry(reply[0], reply[1], 'outbox_append');
    },
    async claim(limit, leaseMs) {
      const { items, now } = await claimEarliest(k.shards, limit, rotation++, (shard, n) => peekQueue(fn, k.endedDue(shard), n), (shard, count) => claimShard(shard, count, leaseMs));
      return { now, entries: items };
    },
    async queueDeliveries(id, deliveries) {
      const shard = k.shardOfId(id);
      // Queued in the entry's step, so in its shard: a delivery's id carries the entry's prefix.
      const stray = deliveries.find((d) => k.shardOfId(d.id) !== shard);
      if (stray) throw new Error(`delivery ${stray.id} does not carry the prefix of ending ${id} (src/sessions/ending-id.ts)`);
      const keys = [k.ended(id, shard), k.deliveriesDue(shard), ...deliveries.flatMap((d) => [k.delivery(d.id, shard), k.orgDeliveries(d.org, 'pending', shard)])];
      const args = deliveries.flatMap((d) => [d.id, d.nextAttemptAt, JSON.stringify(d)]);
      return decode(int, await fn('outbox_queue', keys, args), 'outbox_queue') === 1;
    },
    async complete(id) {
      const shard = k.shardOfId(id);
      await fn('outbox_complete', [k.ended(id, shard), k.endedDue(shard)], [id]);
    },
    async get(id) {
      const [json, queued] = await redis.hmget(k.ended(id), 'entry', 'queued');
      return json ? endedEntry(json, queued, `ended ${id}`) : undefined;
    },
    async size() {
      return (await Promise.all(allShards(k.shards).map((shard) => redis.zcard(k.endedDue(shard))))).reduce((a, b) => a + b, 0);
    },
  };
}
