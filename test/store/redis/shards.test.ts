import { describe, expect, it } from 'vitest';
import { allShards, claimEarliest, type QueuePeek } from '../../../src/store/redis/shards.ts';

/** Shard queues in memory: each a sorted list of [score, member]; a claim removes its earliest due. */
function queues(contents: [number, string][][], now: number) {
  const qs = contents.map((q) => [...q].sort((a, b) => a[0] - b[0]));
  const claimed: { shard: number; count: number }[] = [];
  return {
    claimed,
    peek: async (shard: number, limit: number): Promise<QueuePeek> => {
      const q = qs[shard]!;
      return { now, ...(q.length ? { first: q[0]![0] } : {}), due: q.filter(([s]) => s <= now).slice(0, limit).map(([s]) => s) };
    },
    claim: async (shard: number, count: number) => {
      claimed.push({ shard, count });
      const q = qs[shard]!;
      const due = q.filter(([s]) => s <= now).slice(0, count);
      qs[shard] = q.filter((e) => !due.includes(e));
      return { items: due.map(([, m]) => m), now, ...(qs[shard]!.length ? { nextAt: qs[shard]![0]![0] } : {}) };
    },
  };
}

describe('claimEarliest', () => {
  it('takes the earliest due across shards, in score order, asking only the shards that give', async () => {
    const q = queues([[[5, 'a5'], [9, 'a9']], [[1, 'b1'], [2, 'b2'], [3, 'b3']], [[50, 'c50']]], 10);
    const got = await claimEarliest(3, 3, 0, q.peek, q.claim);
    expect(got.items).toEqual(['b1', 'b2', 'b3']);
    expect(q.claimed).toEqual([{ shard: 1, count: 3 }]);
    // The next due is the earliest left anywhere: shard 0's, which was not claimed from.
    expect(got.nextAt).toBe(5);
    expect(got.now).toBe(10);
    const rest = await claimEarliest(3, 10, 1, q.peek, q.claim);
    expect(rest.items).toEqual(['a5', 'a9']);
    expect(rest.nextAt).toBe(50);
  });

  it('starves no shard: a busy shard\'s newer items wait behind another\'s older one', async () => {
    const busy: [number, string][] = allShards(100).map((i) => [i + 2, `busy${i}`]);
    const q = queues([busy, [[1, 'quiet']]], 1_000);
    expect((await claimEarliest(2, 1, 0, q.peek, q.claim)).items).toEqual(['quiet']);
  });

  it('rotates equal scores between shards from the offset on', async () => {
    const contents = (): [number, string][][] => [[[1, 'x0']], [[1, 'x1']], [[1, 'x2']]];
    const firstOf = async (offset: number) => {
      const q = queues(contents(), 5);
      return (await claimEarliest(3, 1, offset, q.peek, q.claim)).items[0];
    };
    expect([await firstOf(0), await firstOf(1), await firstOf(2)]).toEqual(['x0', 'x1', 'x2']);
  });

  it('claims one shard directly, without a peek', async () => {
    const q = queues([[[1, 'only']]], 5);
    const got = await claimEarliest(1, 10, 0, async () => { throw new Error('no peek on one shard'); }, q.claim);
    expect(got.items).toEqual(['only']);
  });

  it('answers an empty claim with no next due', async () => {
    const q = queues([[], []], 5);
    expect(await claimEarliest(2, 10, 0, q.peek, q.claim)).toEqual({ items: [], now: 5 });
  });
});

describe('claimEarliest with a shard that does not answer', () => {
  it('claims from the others, and fails only when no shard answers', async () => {
    const q = queues([[[1, 'a1']], [[2, 'b2']], [[3, 'c3']]], 10);
    const down = new Set([0]);
    const peek = (shard: number, limit: number) => (down.has(shard) ? Promise.reject(new Error('Connection is closed.')) : q.peek(shard, limit));
    const claim = (shard: number, count: number) => (down.has(shard) ? Promise.reject(new Error('Connection is closed.')) : q.claim(shard, count));
    expect((await claimEarliest(3, 10, 0, peek, claim)).items).toEqual(['b2', 'c3']);
    down.add(1).add(2);
    await expect(claimEarliest(3, 10, 0, peek, claim)).rejects.toThrow('Connection is closed.');
    down.clear();
    expect((await claimEarliest(3, 10, 0, peek, claim)).items).toEqual(['a1']);
  });
});
