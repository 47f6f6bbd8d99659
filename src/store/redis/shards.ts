/*
 * Gathering across shards: on Redis Cluster the deadline index, the outbox's due queue and the
 * delivery queue are one per shard (keys.ts), and a claim takes from all of them in parallel.
 */

/** The shards 0…n−1. */
export const allShards = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

/** One shard's answer to a claim of up to `limit`. */
export interface ShardClaim<T> {
  items: T[];
  /** The shared clock when the shard was claimed from. */
  now: number;
  /** The shard's earliest entry after the claim (claimDue only); absent when empty or unknown. */
  nextAt?: number;
  /** Whether the shard may hold more due items than it gave. */
  more: boolean;
}

/**
 * Claims up to `limit` items from `shards` queues, fairly: every shard first gets an equal
 * share of the limit (the remainder, and whole shares when the limit is below the shard count,
 * go to the shards from `offset` on — a caller rotates it per call, so no shard is always
 * last), all in parallel; what the shares left unused goes, in further parallel rounds, to the
 * shards that said they hold more. So one busy shard still gets the whole limit (in two round
 * trips), and a busy shard never starves the others. One shard: one call, as on one primary.
 *
 * Returns the items, the latest `now` any shard read, and the earliest `nextAt` of any shard's
 * last answer.
 */
export async function claimFairly<T>(
  shards: number,
  limit: number,
  offset: number,
  claim: (shard: number, limit: number) => Promise<ShardClaim<T>>,
): Promise<{ items: T[]; now: number; nextAt?: number }> {
  const last = new Map<number, ShardClaim<T>>();
  const items: T[] = [];
  const start = ((offset % shards) + shards) % shards;
  let candidates = allShards(shards).map((i) => (start + i) % shards);
  // Each round either spends budget or drops a shard that had nothing more: it ends.
  for (let round = 0; candidates.length && (round === 0 || items.length < limit); round++) {
    const budget = limit - items.length;
    const base = Math.floor(budget / candidates.length);
    const extra = budget % candidates.length;
    const shares = candidates.map((shard, i) => ({ shard, share: base + (i < extra ? 1 : 0) }));
    // After the first round (which reads every shard's nextAt), a shard with no share waits.
    const asked = round === 0 ? shares : shares.filter((s) => s.share > 0);
    const replies = await Promise.all(asked.map(async ({ shard, share }) => ({ shard, share, reply: await claim(shard, share) })));
    for (const { shard, reply } of replies) {
      last.set(shard, reply);
      items.push(...reply.items);
    }
    const gave = new Map(replies.map(({ shard, share, reply }) => [shard, reply.more && reply.items.length >= share]));
    // Still candidates: those that filled their share and have more, and those not asked yet.
    candidates = shares.filter(({ shard }) => gave.get(shard) ?? true).map((s) => s.shard);
  }
  let now = 0;
  let nextAt: number | undefined;
  for (const reply of last.values()) {
    now = Math.max(now, reply.now);
    if (reply.nextAt !== undefined) nextAt = nextAt === undefined ? reply.nextAt : Math.min(nextAt, reply.nextAt);
  }
  return { items, now, ...(nextAt !== undefined ? { nextAt } : {}) };
}
