import type { DeliveryStore } from '../types.ts';
import type { Delivery } from '../../logout/types.ts';
import type { RedisClient } from './connection.ts';
import { decode, delivery, int, json, queueCensus, strings } from './decode.ts';
import { keyTemplate, type KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';
import { allShards, claimEarliest, peekQueue } from './shards.ts';

const record = json(delivery);

/**
 * The logout-token queue (lua/deliveries.lua): every state change is one function call. A
 * delivery lives in its id's shard (keys.ts) with its due queue and org lists; reads of the
 * whole queue gather every shard.
 */
export function createRedisDeliveries(redis: RedisClient, fn: FunctionCall, k: KeySchema): DeliveryStore {
  const pending = (shard: number) => keyTemplate((org) => k.orgDeliveries(org, 'pending', shard));
  const dead = (shard: number) => keyTemplate((org) => k.orgDeliveries(org, 'dead', shard));
  const parse = (raw: string, what: string): Delivery => decode(record, raw, what);
  /** The keys every single-delivery function starts with: its record and its shard's due queue. */
  const own = (id: string) => {
    const shard = k.shardOfId(id);
    return { shard, keys: [k.delivery(id, shard), k.deliveriesDue(shard)] };
  };
  let rotation = 0;

  return {
    async enqueue(deliveries) {
      if (!deliveries.length) return;
      // One MULTI per shard (one on one primary): all or none within a shard.
      const byShard = Map.groupBy(deliveries, (d) => k.shardOfId(d.id));
      await Promise.all(
        [...byShard].map(async ([shard, batch]) => {
          const tx = redis.multi();
          for (const d of batch) {
            tx.set(k.delivery(d.id, shard), JSON.stringify(d)).zadd(k.deliveriesDue(shard), d.nextAttemptAt, d.id).sadd(k.orgDeliveries(d.org, 'pending', shard), d.id);
          }
          await tx.exec();
        }),
      );
    },
    async claim(limit, leaseMs) {
      const { items, now } = await claimEarliest(k.shards, limit, rotation++, (shard, n) => peekQueue(fn, k.deliveriesDue(shard), n), async (shard, count) => {
        const [now, ...raws] = decode(strings, await fn('delivery_claim', [k.deliveriesDue(shard)], [count, leaseMs, keyTemplate((id) => k.delivery(id, shard))]), 'delivery_claim');
        return { items: raws.map((raw, i) => parse(raw, `delivery_claim[${i + 1}]`)), now: decode(int, now, 'delivery_claim[0]') };
      });
      return { now, deliveries: items };
    },
    async complete(id) {
      const { shard, keys } = own(id);
      await fn('delivery_complete', keys, [id, pending(shard)]);
    },
    async retryLater(id, attempts, nextAttemptAt, error) {
      await fn('delivery_retry_later', own(id).keys, [id, attempts, nextAttemptAt, error]);
    },
    async bury(id, attempts, error) {
      const { shard, keys } = own(id);
      await fn('delivery_bury', keys, [id, attempts, error, pending(shard), dead(shard)]);
    },
    async get(id) {
      const raw = await redis.get(k.delivery(id));
      return raw === null ? undefined : parse(raw, `delivery ${id}`);
    },
    async list(org, state) {
      const perShard = await Promise.all(
        allShards(k.shards).map(async (shard) => {
          const ids = await redis.smembers(k.orgDeliveries(org, state, shard));
          if (!ids.length) return [];
          // One MGET per shard: its ids' records share its slot.
          const raws = await redis.mget(...ids.map((id) => k.delivery(id, shard)));
          return raws.flatMap((raw, i) => (raw === null ? [] : [parse(raw, `delivery ${ids[i]}`)]));
        }),
      );
      return perShard.flat().sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    },
    async census(orgs) {
      // The queue in one function call per shard; the dead letters (a set per org and shard)
      // after it, sent together (not one pipeline: on a cluster its keys would span nodes).
      const shards = await Promise.all(allShards(k.shards).map(async (shard) => decode(queueCensus, await fn('delivery_census', [k.deliveriesDue(shard)]), 'delivery_census')));
      const counts = await Promise.all(orgs.flatMap((org) => allShards(k.shards).map((shard) => redis.scard(k.orgDeliveries(org, 'dead', shard)))));
      const deadCount = counts.reduce((a, b) => a + b, 0);
      const oldest = shards.flatMap((c) => (c.oldestDueAt === undefined ? [] : [c.oldestDueAt]));
      return {
        now: Math.max(...shards.map((c) => c.now)),
        size: shards.reduce((n, c) => n + c.size, 0),
        due: shards.reduce((n, c) => n + c.due, 0),
        ...(oldest.length ? { oldestDueAt: Math.min(...oldest) } : {}),
        dead: deadCount,
      };
    },
    async revive(id) {
      const { shard, keys } = own(id);
      return decode(int, await fn('delivery_revive', keys, [id, pending(shard), dead(shard)]), 'delivery_revive') === 1;
    },
  };
}
