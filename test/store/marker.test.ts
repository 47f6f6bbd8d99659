import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { createRedisStore } from '../../src/store/redis/index.ts';
import type { Store } from '../../src/store/types.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';

/** The store marker (wipe detection), against both stores: the same contract, the same races. */
describe.each(['memory', 'redis'] as const)('store marker (%s store)', (kind) => {
  let store: Store;
  let clock: ManualClock;
  let prefix: string;
  beforeEach(() => {
    clock = new ManualClock(Date.now());
    prefix = freshPrefix('marker');
    store = kind === 'memory' ? createMemoryStore({ clock }) : createRedisStore({ url: REDIS_URL, prefix });
  });
  afterEach(async () => {
    await store.close();
    if (kind === 'redis') await deletePrefix(prefix);
  });

  it('reads nothing in a new store, and what was settled afterwards', async () => {
    expect(await store.marker.read()).toBeUndefined();
    expect(await store.marker.settle('keys:one')).toBe('keys:one');
    expect(await store.marker.read()).toBe('keys:one');
  });

  it('keeps the first marker: a later settle returns it and changes nothing', async () => {
    await store.marker.settle('keys:one');
    expect(await store.marker.settle('keys:two')).toBe('keys:one');
    expect(await store.marker.read()).toBe('keys:one');
  });

  it('of 100 concurrent settles, one value wins and every caller gets it', async () => {
    const held = await Promise.all(Array.from({ length: 100 }, (_, i) => store.marker.settle(`keys:${i}`)));
    expect(new Set(held).size).toBe(1);
    expect(await store.marker.read()).toBe(held[0]);
  });

  it('of 100 concurrent restore claims, exactly one is granted', async () => {
    const granted = await Promise.all(Array.from({ length: 100 }, (_, i) => store.marker.claimRestore(`instance-${i}`, 30_000)));
    expect(granted.filter(Boolean)).toHaveLength(1);
  });

  it('grants the claim again once it has expired (an instance died mid-restore)', async () => {
    expect(await store.marker.claimRestore('a', 50)).toBe(true);
    expect(await store.marker.claimRestore('b', 50)).toBe(false);
    if (kind === 'memory') clock.advance(50);
    else await new Promise((r) => setTimeout(r, 80));
    expect(await store.marker.claimRestore('b', 50)).toBe(true);
  });

  it('releases a claim for its holder only', async () => {
    expect(await store.marker.claimRestore('a', 30_000)).toBe(true);
    await store.marker.releaseRestore('b');
    expect(await store.marker.claimRestore('b', 30_000)).toBe(false);
    await store.marker.releaseRestore('a');
    expect(await store.marker.claimRestore('b', 30_000)).toBe(true);
  });
});
