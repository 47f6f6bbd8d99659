import type { Redis } from 'ioredis';
import type { DeliveryStore } from '../types.ts';
import type { Delivery } from '../../logout/types.ts';
import { decode, delivery, int, json, queueCensus, strings } from './decode.ts';
import { keyTemplate, type KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';

const record = json(delivery);

/** The logout-token queue (lua/deliveries.lua): every state change is one function call. */
export function createRedisDeliveries(redis: Redis, fn: FunctionCall, k: KeySchema): DeliveryStore {
  const pending = keyTemplate((org) => k.orgDeliveries(org, 'pending'));
  const dead = keyTemplate((org) => k.orgDeliveries(org, 'dead'));
  const parse = (raw: string, what: string): Delivery => decode(record, raw, what);

  return {
    async enqueue(deliveries) {
      if (!deliveries.length) return;
      const tx = redis.multi();
      for (const d of deliveries) {
        tx.set(k.delivery(d.id), JSON.stringify(d)).zadd(k.deliveriesDue, d.nextAttemptAt, d.id).sadd(k.orgDeliveries(d.org, 'pending'), d.id);
      }
      await tx.exec();
    },
    async claim(limit, leaseMs) {
      const reply = decode(strings, await fn('delivery_claim', [k.clockPin, k.deliveriesDue], [limit, leaseMs, keyTemplate(k.delivery)]), 'delivery_claim');
      const [now, ...raws] = reply;
      return { now: decode(int, now, 'delivery_claim[0]'), deliveries: raws.map((raw, i) => parse(raw, `delivery_claim[${i + 1}]`)) };
    },
    async complete(id) {
      await fn('delivery_complete', [k.delivery(id), k.deliveriesDue], [id, pending]);
    },
    async retryLater(id, attempts, nextAttemptAt, error) {
      await fn('delivery_retry_later', [k.delivery(id), k.deliveriesDue], [id, attempts, nextAttemptAt, error]);
    },
    async bury(id, attempts, error) {
      await fn('delivery_bury', [k.delivery(id), k.deliveriesDue], [id, attempts, error, pending, dead]);
    },
    async get(id) {
      const raw = await redis.get(k.delivery(id));
      return raw === null ? undefined : parse(raw, `delivery ${id}`);
    },
    async list(org, state) {
      const ids = await redis.smembers(k.orgDeliveries(org, state));
      if (!ids.length) return [];
      const raws = await redis.mget(...ids.map(k.delivery));
      return raws.flatMap((raw, i) => (raw === null ? [] : [parse(raw, `delivery ${ids[i]}`)])).sort((a, b) => a.enqueuedAt - b.enqueuedAt);
    },
    async census(orgs) {
      // The queue in one function call; the dead letters (a set per org) in one pipeline after it.
      const queue = decode(queueCensus, await fn('delivery_census', [k.clockPin, k.deliveriesDue]), 'delivery_census');
      const pipeline = redis.pipeline();
      for (const org of orgs) pipeline.scard(k.orgDeliveries(org, 'dead'));
      const counts = orgs.length ? ((await pipeline.exec()) ?? []) : [];
      let deadCount = 0;
      for (const [error, count] of counts) {
        if (error) throw error;
        deadCount += decode(int, count, 'delivery census dead');
      }
      return { ...queue, dead: deadCount };
    },
    async revive(id) {
      return decode(int, await fn('delivery_revive', [k.delivery(id), k.deliveriesDue, k.clockPin], [id, pending, dead]), 'delivery_revive') === 1;
    },
  };
}
