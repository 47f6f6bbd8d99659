import type { Redis } from 'ioredis';
import type { LogoutOutbox } from '../types.ts';
import type { EndedEntry } from '../../sessions/types.ts';
import { decode, endedEntry, int, ReplyShapeError, strings } from './decode.ts';
import { keyTemplate, type KeySchema } from './keys.ts';
import type { FunctionCall } from './library.ts';

/**
 * The ended-sessions outbox (lua/outbox.lua). Entries are appended by the session functions'
 * ends (append_ended); these functions claim, queue and complete them.
 */
export function createRedisOutbox(redis: Redis, fn: FunctionCall, k: KeySchema): LogoutOutbox {
  return {
    async append(entry, leaseMs) {
      const reply = decode(strings, await fn('outbox_append', [k.clockPin, k.ended(entry.id), k.endedDue], [JSON.stringify(entry), leaseMs]), 'outbox_append');
      return endedEntry(reply[0], reply[1], 'outbox_append');
    },
    async claim(limit, leaseMs) {
      const [now, ...flat] = decode(strings, await fn('outbox_claim', [k.clockPin, k.endedDue], [limit, leaseMs, keyTemplate(k.ended)]), 'outbox_claim');
      if (flat.length % 2 !== 0) throw new ReplyShapeError('outbox_claim', 'pairs of (queued, entry)', flat);
      const entries: EndedEntry[] = [];
      for (let i = 0; i < flat.length; i += 2) entries.push(endedEntry(flat[i + 1], flat[i], `outbox_claim[${i + 1}]`));
      return { now: decode(int, now, 'outbox_claim[0]'), entries };
    },
    async queueDeliveries(id, deliveries) {
      const keys = [k.ended(id), k.deliveriesDue, ...deliveries.flatMap((d) => [k.delivery(d.id), k.orgDeliveries(d.org, 'pending')])];
      const args = deliveries.flatMap((d) => [d.id, d.nextAttemptAt, JSON.stringify(d)]);
      return decode(int, await fn('outbox_queue', keys, args), 'outbox_queue') === 1;
    },
    async complete(id) {
      await fn('outbox_complete', [k.ended(id), k.endedDue], [id]);
    },
    async get(id) {
      const [json, queued] = await redis.hmget(k.ended(id), 'entry', 'queued');
      return json ? endedEntry(json, queued, `ended ${id}`) : undefined;
    },
    size: () => redis.zcard(k.endedDue),
  };
}
