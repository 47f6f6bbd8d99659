import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { withEndings } from './with-endings.ts';
import type { NewSsoSession } from '../../../src/sessions/types.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';

const MIN = 60_000;
const LEASE = 30_000;
const sso = (id: string, over: Partial<NewSsoSession> = {}): NewSsoSession => ({
  id, org: 'acme', user: `usr_${id}`, idleSeconds: 900, absoluteSeconds: 3600, warningSeconds: 120, refreshIsActivity: false, ...over,
});

/**
 * The deadline index the sweeper claims from (SPEC §9: expired sessions are found by a deadline
 * index, claimed atomically, each session once). Memory and Redis run the same suite.
 */
export function describeDeadlineIndexContract(name: string, make: MakeSubject): void {
  describe(`Deadline index contract: ${name}`, () => {
    let s: ContractSubject;
    let t0: number;
    beforeEach(async () => {
      s = await make(Date.now());
      t0 = await s.clock.now();
    });
    afterEach(async () => {
      await s.cleanup();
    });
    // Whatever these calls replace is recorded under a fresh outbox entry each time.
    const sessions = () => withEndings(s.store.sessions);
    const claim = async (limit = 100) => (await sessions().claimDue(limit, LEASE)).keys.sort();

    it('hands out a session at its next deadline, not 1 ms before', async () => {
      await sessions().login('k1', sso('a'));
      await s.clock.set(t0 + 15 * MIN - 1);
      expect(await claim()).toEqual([]);
      await s.clock.set(t0 + 15 * MIN);
      const claimed = await sessions().claimDue(100, LEASE);
      // Its lease is now the index's next entry: if this sweeper dies, the next one looks then.
      expect(claimed).toEqual({ now: t0 + 15 * MIN, keys: ['k1'], nextAt: t0 + 15 * MIN + LEASE });
    });

    it('tells when it is next due, read with the claim: the earliest deadline, none when empty', async () => {
      expect(await sessions().claimDue(100, LEASE)).toEqual({ now: t0, keys: [] });
      await sessions().login('k1', sso('a'));
      await sessions().login('k2', sso('b', { idleSeconds: 300 }));
      expect(await sessions().claimDue(100, LEASE)).toEqual({ now: t0, keys: [], nextAt: t0 + 5 * MIN });
      // Activity moves a deadline, and the answer with it.
      await s.clock.set(t0 + MIN);
      await sessions().check('k2', undefined, 'active');
      expect((await sessions().claimDue(100, LEASE)).nextAt).toBe(t0 + 6 * MIN);
      await sessions().end('k2', { id: sessions().endingId('k2'), reason: 'logout', leaseMs: LEASE });
      expect((await sessions().claimDue(100, LEASE)).nextAt).toBe(t0 + 15 * MIN);
    });

    it('indexes the earliest deadline of the session and its live RP sessions, and follows activity', async () => {
      await sessions().login('k1', sso('a'));
      await sessions().addRp('k1', { client: 'wiki', sid: 'sid-w', sidKey: 'hsid-w', idleSeconds: 300, absoluteSeconds: 1800, refreshIsActivity: false });
      await s.clock.set(t0 + 5 * MIN - 1);
      expect(await claim()).toEqual([]);
      await sessions().check('k1', 'wiki', 'active');
      await s.clock.set(t0 + 5 * MIN);
      expect(await claim()).toEqual([]);
      await s.clock.set(t0 + 10 * MIN - 1);
      expect(await claim()).toEqual(['k1']);
    });

    it('hides a claimed session for the lease, then hands it out again (a dead sweeper loses nothing)', async () => {
      await sessions().login('k1', sso('a'));
      await s.clock.set(t0 + 15 * MIN);
      expect(await claim()).toEqual(['k1']);
      await s.clock.set(t0 + 15 * MIN + LEASE - 1);
      expect(await claim()).toEqual([]);
      await s.clock.set(t0 + 15 * MIN + LEASE);
      expect(await claim()).toEqual(['k1']);
    });

    it('forgets a session once it ends', async () => {
      await sessions().login('k1', sso('a'));
      await sessions().end('k1', { id: sessions().endingId('k1'), reason: 'admin', leaseMs: 1_000 });
      await s.clock.set(t0 + 2 * 60 * MIN);
      expect(await claim()).toEqual([]);
    });

    it('counts for the gauges: sessions not yet ended, those due and unclaimed, the oldest deadline passed', async () => {
      expect(await s.store.sessions.census()).toEqual({ now: t0, live: 0, size: 0, due: 0 });
      await sessions().login('k1', sso('a'));
      await sessions().login('k2', sso('b', { idleSeconds: 600 }));
      await sessions().login('k3', sso('c'));
      await sessions().end('k3', { id: sessions().endingId('k3'), reason: 'admin', leaseMs: 1_000 });
      await s.clock.set(t0 + 10 * MIN - 1);
      expect(await s.store.sessions.census()).toEqual({ now: t0 + 10 * MIN - 1, live: 2, size: 2, due: 0 });
      await s.clock.set(t0 + 15 * MIN);
      expect(await s.store.sessions.census()).toEqual({ now: t0 + 15 * MIN, live: 2, size: 2, due: 2, oldestDueAt: t0 + 10 * MIN });
      // A claimed session is a sweeper's now: no longer waiting for one.
      expect(await claim(1)).toEqual(['k2']);
      expect(await s.store.sessions.census()).toEqual({ now: t0 + 15 * MIN, live: 2, size: 2, due: 1, oldestDueAt: t0 + 15 * MIN });
    });

    it('claims the earliest deadlines first when more are due than the limit, and nothing not yet due', async () => {
      for (let i = 0; i < 6; i++) await sessions().login(`k${i}`, sso(`u${i}`, { idleSeconds: 600 - 60 * i }));
      await sessions().login('later', sso('later', { idleSeconds: 3000 }));
      await s.clock.set(t0 + 10 * MIN);
      expect((await sessions().claimDue(2, LEASE)).keys).toEqual(['k5', 'k4']);
      expect((await sessions().claimDue(100, LEASE)).keys).toEqual(['k3', 'k2', 'k1', 'k0']);
    });

    it('gives each due session to exactly one of 50 concurrent claimers, within their limits', async () => {
      for (let i = 0; i < 60; i++) await sessions().login(`k${i}`, sso(`u${i}`));
      await s.clock.set(t0 + 15 * MIN);
      const claims = await Promise.all(Array.from({ length: 50 }, () => sessions().claimDue(3, LEASE)));
      for (const c of claims) expect(c.keys.length).toBeLessThanOrEqual(3);
      const keys = claims.flatMap((c) => c.keys);
      // A sharded store's claim racing others may come back short (the shard it peeked was
      // emptied meanwhile); the next claim takes what is left. Never twice, never lost.
      for (let round = 0; keys.length < 60 && round < 5; round++) keys.push(...(await sessions().claimDue(100, LEASE)).keys);
      expect(keys).toHaveLength(60);
      expect(new Set(keys).size).toBe(60);
    });
  });
}
