import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Store } from '../../../src/store/types.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';

/** Attempt limiters: reserve before judging, by the shared clock. Memory and Redis run this same suite. */
export function describeAttemptsContract(name: string, make: MakeSubject): void {
  describe(`Attempt limiter contract: ${name}`, () => {
    let s: ContractSubject;
    let store: Store;
    beforeEach(async () => {
      s = await make();
      store = s.store;
    });
    afterEach(async () => {
      await s.cleanup();
    });

    const limiterOf = (points: number) => store.rateLimiter({ name: `t${Math.random()}`, points, durationSeconds: 60, blockSeconds: 120 });

    it('grants `points` reservations, the last one marked; then refuses for the block; check reserves nothing', async () => {
      const limiter = limiterOf(3);
      expect(await limiter.check('k')).toEqual({ blocked: false, retryAfterSeconds: 0 });
      for (let i = 0; i < 5; i++) expect((await limiter.check('k')).blocked).toBe(false);
      expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
      expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
      expect(await limiter.reserve('k')).toEqual({ granted: true, last: true });
      const refused = await limiter.reserve('k');
      expect(refused).toEqual({ granted: false, retryAfterSeconds: 120 });
      const state = await limiter.check('k');
      expect(state).toEqual({ blocked: true, retryAfterSeconds: 120 });
      expect((await limiter.check('other')).blocked).toBe(false);
    });

    it('of 100 concurrent reservations grants exactly `points`, one of them the last', async () => {
      const limiter = limiterOf(5);
      const all = await Promise.all(Array.from({ length: 100 }, () => limiter.reserve('k')));
      const granted = all.filter((r) => r.granted);
      expect(granted).toHaveLength(5);
      expect(granted.filter((r) => r.granted && r.last)).toHaveLength(1);
    });

    it('a refund gives one attempt back and lifts a block; reset forgets the key', async () => {
      const limiter = limiterOf(2);
      await limiter.reserve('k');
      await limiter.reserve('k');
      expect((await limiter.check('k')).blocked).toBe(true);
      await limiter.refund('k');
      expect((await limiter.check('k')).blocked).toBe(false);
      expect(await limiter.reserve('k')).toEqual({ granted: true, last: true });
      expect((await limiter.reserve('k')).granted).toBe(false);
      await limiter.reset('k');
      expect(await limiter.check('k')).toEqual({ blocked: false, retryAfterSeconds: 0 });
      expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
      await limiter.refund('k');
      await limiter.refund('k');
      expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
    });

    it('judges the window and the block by the shared clock: alive 1 ms before the end, over at it', async () => {
      const limiter = limiterOf(2);
      await limiter.reserve('k');
      await s.clock.advance(60_000 - 1);
      expect(await limiter.reserve('k')).toEqual({ granted: true, last: true });
      await s.clock.advance(120_000 - 1);
      expect(await limiter.check('k')).toEqual({ blocked: true, retryAfterSeconds: 1 });
      expect((await limiter.reserve('k')).granted).toBe(false);
      await s.clock.advance(1);
      expect(await limiter.check('k')).toEqual({ blocked: false, retryAfterSeconds: 0 });
      expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
      await s.clock.advance(60_000);
      expect(await limiter.reserve('k')).toEqual({ granted: true, last: false });
    });

    it('keeps limiters of different names apart', async () => {
      const tag = Math.random();
      const strict = store.rateLimiter({ name: `a${tag}`, points: 1, durationSeconds: 60, blockSeconds: 60 });
      const loose = store.rateLimiter({ name: `b${tag}`, points: 5, durationSeconds: 60, blockSeconds: 60 });
      expect(await strict.reserve('k')).toEqual({ granted: true, last: true });
      expect((await strict.check('k')).blocked).toBe(true);
      expect((await loose.check('k')).blocked).toBe(false);
    });
  });
}
