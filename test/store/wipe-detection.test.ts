import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createRedisStore } from '../../src/store/redis/index.ts';
import type { Store } from '../../src/store/types.ts';
import { createWipeWatch, type WipeWatch } from '../../src/store/wipe-detection.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';

const quiet = createLogger('silent', new Writable({ write: (_c, _e, done) => done() }));

describe('wipe detection (two instances on one Redis)', () => {
  let prefix: string;
  let store: Store;
  let raw: Redis;
  let restores: number;
  let watches: WipeWatch[];
  const watch = (expected = 'keys:same', restore: () => Promise<'restored' | 'diverged'> = async () => (restores++, 'restored'), missWaitMs = 2_000) => {
    const w = createWipeWatch({ marker: store.marker, expected, restore, logger: quiet, intervalMs: 60_000, missWaitMs });
    watches.push(w);
    return w;
  };
  const wipe = () => raw.del(`${prefix}marker`);

  beforeEach(() => {
    prefix = freshPrefix('wipe');
    store = createRedisStore({ url: REDIS_URL, prefix });
    raw = new Redis(REDIS_URL);
    restores = 0;
    watches = [];
  });
  afterEach(async () => {
    for (const w of watches) w.stop();
    raw.disconnect();
    await store.close();
    await deletePrefix(prefix);
  });

  it('leaves the marker in a new store at start and reads intact', async () => {
    const w = watch();
    await w.start();
    expect(await store.marker.read()).toBe('keys:same');
    expect(await w.check()).toBe(true);
    expect(w.state).toBe('intact');
  });

  it('tells every instance of each change of state, not only the one that restores', async () => {
    const heard: string[][] = [[], []];
    const [a, b] = [0, 1].map((i) => {
      const w = createWipeWatch({ marker: store.marker, expected: 'keys:same', restore: async () => (restores++, 'restored'), logger: quiet, intervalMs: 60_000, changed: (state) => heard[i]!.push(state) });
      watches.push(w);
      return w;
    }) as [WipeWatch, WipeWatch];
    await a.start();
    await b.start();
    expect(heard).toEqual([[], []]);
    await wipe();
    await Promise.all([a.check(), b.check()]);
    await Promise.all([a.explainMiss(), b.explainMiss()]);
    await Promise.all([a.check(), b.check()]);
    expect(restores).toBe(1);
    expect(heard).toEqual([['wiped', 'intact'], ['wiped', 'intact']]);
  });

  it('reads a missing marker as not intact, restores once however many ask at once, and reads intact again', async () => {
    const [a, b] = [watch(), watch()];
    await a.start();
    await b.start();
    await wipe();
    const first = await Promise.all([...Array.from({ length: 50 }, () => a.check()), ...Array.from({ length: 50 }, () => b.check())]);
    expect(first.every((intact) => !intact)).toBe(true);
    expect(a.state).toBe('wiped');
    // The lookups wait for the restore: one of them ran it, the other instance sees its marker.
    expect(await Promise.all([a.explainMiss(), b.explainMiss()])).toEqual(['restored', 'restored']);
    expect(restores).toBe(1);
    expect(await Promise.all([a.check(), b.check()])).toEqual([true, true]);
  });

  it('tells a really missing client from a wiped store', async () => {
    const w = watch();
    await w.start();
    expect(await w.explainMiss()).toBe('missing');
  });

  it('answers unavailable while another instance holds the restore (past a short wait), without restoring itself', async () => {
    const w = watch('keys:same', async () => (restores++, 'restored'), 0);
    await w.start();
    await wipe();
    expect(await store.marker.claimRestore('another instance', 30_000)).toBe(true);
    expect(await w.explainMiss()).toBe('unavailable');
    expect(restores).toBe(0);
    await store.marker.settle('keys:same');
    expect(await w.explainMiss()).toBe('restored');
  });

  it('reads a marker not its own as diverged: not ready until restarted', async () => {
    const w = watch('keys:mine');
    await store.marker.settle('keys:an-instance-that-started-on-the-empty-store');
    await w.start();
    expect(w.state).toBe('diverged');
    expect(await w.check()).toBe(false);
    expect(await w.explainMiss()).toBe('unavailable');
  });

  it('stays not ready when the restore fails, leaving no marker, and tries again at the next check', async () => {
    let failures = 1;
    const w = watch('keys:same', async () => {
      if (failures-- > 0) throw new Error('seed could not be applied');
      restores++;
      return 'restored';
    }, 0);
    await w.start();
    await wipe();
    expect(await w.explainMiss()).toBe('unavailable');
    expect(await store.marker.read()).toBeUndefined();
    // The failed restore gave its claim up: the next lookup restores, not one 30 s later.
    expect(await w.explainMiss()).toBe('restored');
    expect(restores).toBe(1);
    expect(await w.check()).toBe(true);
  });
});
