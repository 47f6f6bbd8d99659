import { decode, int, strings } from './decode.ts';
import type { FunctionCall } from './library.ts';

/*
 * Gathering across shards: on Redis Cluster the deadline index, the outbox's due queue and the
 * delivery queue are one per shard (keys.ts), and a claim takes from all of them.
 */

/** The shards 0…n−1. */
export const allShards = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** A shard queue's due scores (lua/prelude.lua queue_peek): read-only. */
export interface QueuePeek {
  /** The shared clock when the shard was read. */
  now: number;
  /** The queue's earliest score, due or not; absent when it is empty. */
  first?: number;
  /** The scores of its earliest due members, ascending, at most the limit asked. */
  due: number[];
}

/** Peeks one shard's queue (a sorted set scored by when each member is due). */
export async function peekQueue(fn: FunctionCall, queue: string, limit: number): Promise<QueuePeek> {
  const [now, first, ...due] = decode(strings, await fn('queue_peek', [queue], [limit]), 'queue_peek');
  return {
    now: decode(int, now, 'queue_peek[0]'),
    ...(first ? { first: Number(first) } : {}),
    due: due.map(Number),
  };
}

/** One shard's claim of its `count` earliest due members (in score order). */
export interface ShardClaim<T> {
  items: T[];
  now: number;
  /** The shard's earliest entry after the claim, if the claim reads it (claimDue). */
  nextAt?: number;
}

/**
 * Claims the `limit` earliest due items across `shards` queues, as one queue would: every shard
 * is peeked in parallel (its due scores, read-only), the `limit` earliest scores of all of them
 * decide how many each shard gives, and those shards are claimed in parallel — each claim takes
 * its own shard's earliest, atomically, so concurrent claimers still never share an item (one
 * that lost a race to another gets fewer, never a duplicate). Earliest-first across shards is
 * what keeps any shard from starving: whatever waits longest is taken first. Equal scores go
 * to the shards from `offset` on (a caller rotates it per call). One shard: one claim, as on one
 * primary.
 *
 * A shard that does not answer (its primary down) is left out, so the others' items are still
 * claimed and handled; only when no shard answers does the claim fail. Its items wait, leased
 * or not, in its queue until it is back.
 *
 * Returns the items in score order, the latest `now` read, and the earliest `nextAt`: the
 * claimed shards' (read after their claim) and the others' first score.
 */
export async function claimEarliest<T>(
  shards: number,
  limit: number,
  offset: number,
  peek: (shard: number, limit: number) => Promise<QueuePeek>,
  claim: (shard: number, count: number) => Promise<ShardClaim<T>>,
): Promise<{ items: T[]; now: number; nextAt?: number }> {
  if (shards === 1) return claim(0, limit);
  const peeked = await settled(allShards(shards).map(async (shard) => ({ shard, peek: await peek(shard, limit) })));
  const peeks = new Map(peeked.map(({ shard, peek }) => [shard, peek]));
  const turn = (shard: number) => (((shard - offset) % shards) + shards) % shards;
  const earliest = [...peeks]
    .flatMap(([shard, p]) => p.due.map((score) => ({ score, shard })))
    .sort((a, b) => a.score - b.score || turn(a.shard) - turn(b.shard))
    .slice(0, Math.max(0, limit));
  const counts = new Map<number, number>();
  for (const { shard } of earliest) counts.set(shard, (counts.get(shard) ?? 0) + 1);
  const claims = counts.size ? await settled([...counts].map(async ([shard, count]) => ({ shard, reply: await claim(shard, count) }))) : [];

  // Each claim gave its shard's earliest in order: the peeked scores order them across shards.
  const scored = claims.flatMap(({ shard, reply }) => reply.items.map((item, i) => ({ item, score: peeks.get(shard)!.due[i] ?? Infinity, shard })));
  scored.sort((a, b) => a.score - b.score || turn(a.shard) - turn(b.shard));
  const now = Math.max(...[...peeks.values()].map((p) => p.now), ...claims.map((c) => c.reply.now));
  let nextAt: number | undefined;
  const consider = (at: number | undefined) => {
    if (at !== undefined) nextAt = nextAt === undefined ? at : Math.min(nextAt, at);
  };
  for (const { reply } of claims) consider(reply.nextAt);
  for (const [shard, p] of peeks) if (!counts.has(shard)) consider(p.first);
  return { items: scored.map((s) => s.item), now, ...(nextAt !== undefined ? { nextAt } : {}) };
}

/** The answers of the calls that succeeded; the first error if none did. */
async function settled<T>(calls: Promise<T>[]): Promise<T[]> {
  const results = await Promise.allSettled(calls);
  const answered = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (!answered.length && failed) throw failed.reason;
  return answered;
}
