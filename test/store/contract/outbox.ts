import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Delivery } from '../../../src/logout/types.ts';
import type { EndedEntry } from '../../../src/sessions/types.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';
import { withEndings } from './with-endings.ts';

const LEASE = 30_000;
const MIN = 60_000;

/** The ended-sessions outbox (transactional outbox of session ends); memory and Redis run it. */
export function describeOutboxContract(name: string, make: MakeSubject): void {
  describe(`Ended-sessions outbox contract: ${name}`, () => {
    let s: ContractSubject;
    let t0: number;
    beforeEach(async () => {
      s = await make(Date.now());
      t0 = await s.clock.now();
    });
    afterEach(async () => {
      await s.cleanup();
    });
    const outbox = () => s.store.ended;
    /** Ending ids are the store's to make, for their session (SessionStore.endingId): one per name. */
    let ids = new Map<string, string>();
    beforeEach(() => {
      ids = new Map();
    });
    const idOf = (name: string, key = 'k1') => ids.get(name) ?? ids.set(name, s.store.sessions.endingId(key)).get(name)!;
    const sso = { id: 'uid-1', org: 'acme', user: 'usr_a', idleSeconds: 900, absoluteSeconds: 3600, warningSeconds: 120, refreshIsActivity: false };
    const rp = (client: string) => ({ client, sid: `sid-${client}`, sidKey: `hsid-${client}`, idleSeconds: 300, absoluteSeconds: 1800, refreshIsActivity: false });
    const entry = (over: Partial<EndedEntry> = {}): Omit<EndedEntry, 'queued' | 'endedAt'> => ({
      id: s.store.sessions.endingId(randomUUID()), reason: 'idle', scope: 'sso',
      session: { ...sso, signedInAt: t0, lastActiveAt: t0, rps: {} }, rps: [], deadlineAt: t0, ...over,
    });
    const delivery = (e: { id: string }, client: string): Delivery => ({
      id: `${e.id}-${client}`, org: 'acme', client, uri: 'https://wiki.example/bcl', sub: 'usr_a', sid: `sid-${client}`, reason: 'idle',
      session: 'uid-1', endedAt: t0, enqueuedAt: t0, attempts: 0, state: 'pending', nextAttemptAt: t0,
    });

    it('keeps an end\'s entry with its ender for the lease, then lets one worker take it over', async () => {
      await withEndings(s.store.sessions).login('k1', sso);
      await withEndings(s.store.sessions).addRp('k1', rp('wiki'));
      await s.store.sessions.end('k1', { id: idOf('end-1'), reason: 'admin', leaseMs: LEASE });
      expect((await outbox().claim(10, LEASE)).entries).toEqual([]);
      await s.clock.set(t0 + LEASE);
      const [first, second] = await Promise.all([outbox().claim(10, LEASE), outbox().claim(10, LEASE)]);
      expect([...first.entries, ...second.entries].map((e) => e.id)).toEqual([idOf('end-1')]);
      expect([...first.entries, ...second.entries][0]).toMatchObject({ reason: 'admin', scope: 'sso', endedAt: t0, queued: false, rps: [{ client: 'wiki' }] });
      // Claimed: hidden for the claim's lease, then claimable again (its worker died).
      await s.clock.set(t0 + 2 * LEASE - 1);
      expect((await outbox().claim(10, LEASE)).entries).toEqual([]);
      await s.clock.set(t0 + 2 * LEASE);
      expect((await outbox().claim(10, LEASE)).entries.map((e) => e.id)).toEqual([idOf('end-1')]);
    });

    it('records an SSO end without live RP sessions with an empty list of them', async () => {
      await withEndings(s.store.sessions).login('k1', sso);
      await withEndings(s.store.sessions).addRp('k1', rp('wiki'));
      await s.store.sessions.endRp('k1', 'wiki', { id: idOf('end-rp'), reason: 'admin', leaseMs: LEASE });
      await s.store.sessions.end('k1', { id: idOf('end-sso'), reason: 'idle', deadlineAt: t0, leaseMs: LEASE });
      expect(await outbox().get(idOf('end-sso'))).toMatchObject({ scope: 'sso', rps: [], deadlineAt: t0, session: { rps: { wiki: { endedAt: t0 } } } });
      expect(await outbox().get(idOf('end-rp'))).toMatchObject({ scope: 'rp', rps: [{ client: 'wiki', endedAt: t0 }] });
    });

    it('records the end of a session a sign-in replaces, in the same step, by the deadline that passed', async () => {
      await withEndings(s.store.sessions).login('k1', sso);
      await withEndings(s.store.sessions).addRp('k1', rp('wiki'));
      await s.clock.set(t0 + 15 * MIN);
      const { replaced } = await s.store.sessions.login('k1', sso, { id: idOf('end-r'), leaseMs: LEASE });
      expect(replaced?.id).toBe('uid-1');
      expect(await outbox().get(idOf('end-r'))).toMatchObject({ reason: 'idle', scope: 'sso', deadlineAt: t0 + 15 * MIN, endedAt: t0 + 15 * MIN, rps: [{ client: 'wiki' }] });
      // Another user's live session in the same browser: a logout, at no deadline.
      await s.store.sessions.login('k1', { ...sso, user: 'usr_b' }, { id: idOf('end-b'), leaseMs: LEASE });
      const other = await outbox().get(idOf('end-b'));
      expect(other).toMatchObject({ reason: 'logout', scope: 'sso', rps: [] });
      expect(other?.deadlineAt).toBeUndefined();
      // A sign-in that replaces nothing records nothing.
      await s.store.sessions.login('k2', sso, { id: idOf('end-none', 'k2'), leaseMs: LEASE });
      expect(await outbox().get(idOf('end-none', 'k2'))).toBeUndefined();
    });

    it('records the end of an RP session a new one replaces, unless it had ended already', async () => {
      await withEndings(s.store.sessions).login('k1', sso);
      await withEndings(s.store.sessions).addRp('k1', rp('wiki'));
      await s.clock.set(t0 + 5 * MIN);
      await s.store.sessions.addRp('k1', { ...rp('wiki'), sid: 'sid-2', sidKey: 'hsid-2' }, { id: idOf('end-rp'), leaseMs: LEASE });
      expect(await outbox().get(idOf('end-rp'))).toMatchObject({ reason: 'idle', scope: 'rp', deadlineAt: t0 + 5 * MIN, rps: [{ client: 'wiki', sid: 'sid-wiki' }] });
      await s.store.sessions.endRp('k1', 'wiki', { id: idOf('end-tomb'), reason: 'admin', leaseMs: LEASE });
      await s.store.sessions.addRp('k1', { ...rp('wiki'), sid: 'sid-3', sidKey: 'hsid-3' }, { id: idOf('end-again'), leaseMs: LEASE });
      expect(await outbox().get(idOf('end-again'))).toBeUndefined();
      expect(await outbox().size()).toBe(2);
    });

    it('appends an entry once per id, leased to its appender', async () => {
      const e = entry();
      const [a, b] = await Promise.all([outbox().append(e, LEASE), outbox().append({ ...e, reason: 'admin' }, LEASE)]);
      expect(a).toEqual(b);
      expect(await outbox().size()).toBe(1);
      expect((await outbox().claim(10, LEASE)).entries).toEqual([]);
      await s.clock.advance(LEASE);
      expect((await outbox().claim(10, LEASE)).entries).toHaveLength(1);
    });

    it('queues an entry\'s deliveries once, whoever asks and however often', async () => {
      const e = await outbox().append(entry(), 0);
      const owed = [delivery(e, 'wiki'), delivery(e, 'mail')];
      const results = await Promise.all(Array.from({ length: 50 }, () => outbox().queueDeliveries(e.id, owed)));
      expect(results.filter(Boolean)).toHaveLength(1);
      expect((await outbox().get(e.id))?.queued).toBe(true);
      const claimed = await s.store.deliveries.claim(100, LEASE);
      expect(claimed.deliveries.map((d) => d.id).sort()).toEqual(owed.map((d) => d.id).sort());
      // Delivered and gone: processing the entry again still queues nothing.
      for (const d of owed) await s.store.deliveries.complete(d.id);
      expect(await outbox().queueDeliveries(e.id, owed)).toBe(false);
      await s.clock.advance(LEASE);
      expect((await s.store.deliveries.claim(100, LEASE)).deliveries).toEqual([]);
      expect(await s.store.deliveries.list('acme', 'pending')).toEqual([]);
    });

    it('completes an entry: gone for claims and for queueing', async () => {
      const e = await outbox().append(entry(), 0);
      await outbox().complete(e.id);
      await outbox().complete(e.id);
      expect(await outbox().get(e.id)).toBeUndefined();
      expect(await outbox().size()).toBe(0);
      expect((await outbox().claim(10, LEASE)).entries).toEqual([]);
      expect(await outbox().queueDeliveries(e.id, [delivery(e, 'wiki')])).toBe(false);
      expect(await s.store.deliveries.get(`${e.id}-wiki`)).toBeUndefined();
    });

    it('50 concurrent processors handle each entry once', async () => {
      const entries = await Promise.all(Array.from({ length: 40 }, () => outbox().append(entry(), 0)));
      const handled: string[] = [];
      const queued: string[] = [];
      // Each processor claims a few, queues their deliveries and completes them, as the worker does.
      await Promise.all(Array.from({ length: 50 }, async () => {
        const { entries: mine } = await outbox().claim(3, MIN);
        for (const e of mine) {
          handled.push(e.id);
          if (await outbox().queueDeliveries(e.id, [delivery(e, 'wiki')])) queued.push(e.id);
          await outbox().complete(e.id);
        }
      }));
      expect(handled.sort()).toEqual(entries.map((e) => e.id).sort());
      expect(queued.sort()).toEqual(entries.map((e) => e.id).sort());
      expect(await outbox().size()).toBe(0);
      expect((await s.store.deliveries.list('acme', 'pending')).map((d) => d.id).sort()).toEqual(entries.map((e) => `${e.id}-wiki`).sort());
    });
  });
}
