import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/logout/types.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';

const LEASE = 30_000;

/** The logout-token queue's semantics, judged by the shared clock; memory and Redis run it. */
export function describeDeliveryContract(name: string, make: MakeSubject): void {
  describe(`Delivery queue contract: ${name}`, () => {
    let s: ContractSubject;
    let t0: number;
    beforeEach(async () => {
      s = await make(Date.now());
      t0 = await s.clock.now();
    });
    afterEach(async () => {
      await s.cleanup();
    });
    const q = () => s.store.deliveries;
    const delivery = (over: Partial<Delivery> = {}): Delivery => ({
      id: randomUUID(), org: 'acme', client: 'wiki', uri: 'https://wiki.example/bcl', sub: 'usr_a', sid: 'sid-1', reason: 'idle',
      session: 'uid-1', endedAt: t0, enqueuedAt: t0, attempts: 0, state: 'pending', nextAttemptAt: t0, ...over,
    });
    const ids = (list: Delivery[]) => list.map((d) => d.id).sort();

    it('counts for the gauges: pending, due now, the oldest due, and the dead letters of the orgs asked about', async () => {
      expect(await q().census(['acme'])).toEqual({ now: t0, size: 0, due: 0, dead: 0 });
      const old = delivery({ nextAttemptAt: t0 - 5_000 });
      const now = delivery();
      const later = delivery({ nextAttemptAt: t0 + 60_000 });
      const dead = delivery();
      const elsewhere = delivery({ org: 'globex' });
      await q().enqueue([old, now, later, dead, elsewhere]);
      await q().bury(dead.id, 1, 'gone');
      await q().bury(elsewhere.id, 1, 'gone');
      expect(await q().census(['acme'])).toEqual({ now: t0, size: 3, due: 2, oldestDueAt: t0 - 5_000, dead: 1 });
      expect((await q().census(['acme', 'globex'])).dead).toBe(2);
      expect((await q().census([])).dead).toBe(0);
      await q().complete(old.id);
      expect(await q().census(['acme'])).toEqual({ now: t0, size: 2, due: 1, oldestDueAt: t0, dead: 1 });
    });

    it('claims what is due by the shared clock, oldest first, and nothing early', async () => {
      const later = delivery({ nextAttemptAt: t0 + 1_000 });
      const first = delivery({ nextAttemptAt: t0 - 10 });
      const second = delivery();
      await q().enqueue([later, second, first]);
      const claimed = await q().claim(10, LEASE);
      expect(claimed.now).toBe(t0);
      expect(claimed.deliveries.map((d) => d.id)).toEqual([first.id, second.id]);
      expect(claimed.deliveries[1]).toEqual(second);
      await s.clock.set(t0 + 999);
      expect((await q().claim(10, LEASE)).deliveries).toEqual([]);
      await s.clock.set(t0 + 1_000);
      expect((await q().claim(10, LEASE)).deliveries.map((d) => d.id)).toEqual([later.id]);
    });

    it('hides a claimed delivery for its lease, then hands it out again (a dead worker loses nothing)', async () => {
      const d = delivery();
      await q().enqueue([d]);
      expect((await q().claim(10, LEASE)).deliveries).toHaveLength(1);
      await s.clock.set(t0 + LEASE - 1);
      expect((await q().claim(10, LEASE)).deliveries).toEqual([]);
      await s.clock.set(t0 + LEASE);
      expect((await q().claim(10, LEASE)).deliveries.map((x) => x.id)).toEqual([d.id]);
    });

    it('never hands one delivery to two of 50 concurrent claimers', async () => {
      const all = Array.from({ length: 120 }, () => delivery());
      await q().enqueue(all);
      const claims = await Promise.all(Array.from({ length: 50 }, () => q().claim(5, LEASE)));
      const taken = claims.flatMap((c) => c.deliveries.map((d) => d.id));
      // As claimDue: a sharded store's racing claim may come back short; the next takes the rest.
      for (let round = 0; taken.length < 120 && round < 5; round++) taken.push(...(await q().claim(200, LEASE)).deliveries.map((d) => d.id));
      expect(taken).toHaveLength(120);
      expect(new Set(taken).size).toBe(120);
    });

    it('completes: gone from the queue and the pending list', async () => {
      const d = delivery();
      await q().enqueue([d]);
      await q().complete(d.id);
      await q().complete(d.id);
      expect(await q().get(d.id)).toBeUndefined();
      expect(await q().list('acme', 'pending')).toEqual([]);
      await s.clock.set(t0 + LEASE);
      expect((await q().claim(10, LEASE)).deliveries).toEqual([]);
    });

    it('reschedules a failed attempt with its error, due at the new time only', async () => {
      const d = delivery();
      await q().enqueue([d]);
      await q().claim(10, LEASE);
      await q().retryLater(d.id, 1, t0 + 2_000, 'HTTP 503');
      expect(await q().get(d.id)).toEqual({ ...d, attempts: 1, nextAttemptAt: t0 + 2_000, lastError: 'HTTP 503' });
      await s.clock.set(t0 + 1_999);
      expect((await q().claim(10, LEASE)).deliveries).toEqual([]);
      await s.clock.set(t0 + 2_000);
      expect((await q().claim(10, LEASE)).deliveries.map((x) => x.attempts)).toEqual([1]);
    });

    it('buries a delivery as a dead letter, listed per org and never claimed', async () => {
      const d = delivery();
      const other = delivery({ org: 'globex' });
      await q().enqueue([d, other]);
      await q().bury(d.id, 10, 'HTTP 400');
      expect(ids(await q().list('acme', 'dead'))).toEqual([d.id]);
      expect(await q().list('acme', 'pending')).toEqual([]);
      expect(ids(await q().list('globex', 'pending'))).toEqual([other.id]);
      expect(await q().get(d.id)).toMatchObject({ state: 'dead', attempts: 10, lastError: 'HTTP 400' });
      await s.clock.set(t0 + 10 * LEASE);
      expect((await q().claim(10, LEASE)).deliveries.map((x) => x.id)).toEqual([other.id]);
      // A late retryLater of a buried delivery (a slow worker) does not bring it back.
      await q().retryLater(d.id, 3, t0, 'late');
      expect(await q().get(d.id)).toMatchObject({ state: 'dead', attempts: 10 });
    });

    it('keeps a delivery and its lists consistent when 60 completes, retries, burials and revivals race on it', async () => {
      for (let round = 0; round < 5; round++) {
        const d = delivery();
        await q().enqueue([d]);
        // Each update reads and writes in one step: whatever order they land in, the record,
        // the due queue and the org's lists agree at the end.
        await Promise.all(Array.from({ length: 60 }, (_, i) => {
          switch (i % 4) {
            case 0: return round % 2 ? q().retryLater(d.id, i, t0 + 1_000, `e${i}`) : q().revive(d.id);
            case 1: return q().bury(d.id, i, `b${i}`);
            case 2: return q().revive(d.id);
            default: return i === 59 && round < 3 ? q().complete(d.id) : q().retryLater(d.id, i, t0 + 1_000, `e${i}`);
          }
        }));
        const after = await q().get(d.id);
        const pending = (await q().list('acme', 'pending')).map((x) => x.id);
        const dead = (await q().list('acme', 'dead')).map((x) => x.id);
        await s.clock.set(t0 + (round + 1) * 10 * LEASE);
        const claimed = (await q().claim(100, LEASE)).deliveries.map((x) => x.id);
        if (after === undefined) {
          expect([pending, dead, claimed]).toEqual([[], [], []]);
        } else if (after.state === 'dead') {
          expect([pending, dead, claimed]).toEqual([[], [d.id], []]);
          await q().complete(d.id);
        } else {
          expect([pending, dead, claimed]).toEqual([[d.id], [], [d.id]]);
          await q().complete(d.id);
        }
        expect(await q().census(['acme'])).toMatchObject({ size: 0, due: 0, dead: after?.state === 'dead' ? 1 : 0 });
        if (after?.state === 'dead') {
          // A dead letter is only ever left by an admin retry or a purge: clear it for the next round.
          await q().revive(d.id);
          await q().complete(d.id);
        }
        t0 = await s.clock.now();
      }
    });

    it('claims the longest-due deliveries first when more are due than the limit', async () => {
      const all = Array.from({ length: 10 }, (_, i) => delivery({ nextAttemptAt: t0 - 1_000 * (i + 1) }));
      await q().enqueue(all);
      expect((await q().claim(3, LEASE)).deliveries.map((d) => d.nextAttemptAt)).toEqual([t0 - 10_000, t0 - 9_000, t0 - 8_000]);
    });

    it('revives a dead letter due now with a fresh attempt budget, once among 50 concurrent retries', async () => {
      const d = delivery();
      await q().enqueue([d]);
      await q().bury(d.id, 10, 'HTTP 400');
      await s.clock.set(t0 + 60_000);
      const results = await Promise.all(Array.from({ length: 50 }, () => q().revive(d.id)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect(await q().get(d.id)).toMatchObject({ state: 'pending', attempts: 0, nextAttemptAt: t0 + 60_000, lastError: 'HTTP 400' });
      expect(await q().list('acme', 'dead')).toEqual([]);
      expect(ids(await q().list('acme', 'pending'))).toEqual([d.id]);
      expect((await q().claim(10, LEASE)).deliveries.map((x) => x.id)).toEqual([d.id]);
      expect(await q().revive(d.id)).toBe(false);
      expect(await q().revive('no-such-delivery')).toBe(false);
    });
  });
}
