import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Ending, NewSsoSession } from '../../../src/sessions/types.ts';
import type { ContractSubject, MakeSubject } from './subject.ts';
import { withEndings } from './with-endings.ts';

const MIN = 60_000;
const sso = (over: Partial<NewSsoSession> = {}): NewSsoSession => ({
  id: 'uid-1', org: 'acme', user: 'usr_a', ip: '10.0.0.1', idleSeconds: 900, absoluteSeconds: 3600, warningSeconds: 120, refreshIsActivity: false, ...over,
});
const rp = (client: string, over: Record<string, unknown> = {}) => ({
  client, sid: `sid-${client}`, sidKey: `hsid-${client}`, grantId: `g-${client}`, idleSeconds: 300, absoluteSeconds: 1800, refreshIsActivity: false, ...over,
});


/** Session storage semantics, judged by the shared clock; memory and Redis run the same suite. */
export function describeSessionContract(name: string, make: MakeSubject): void {
  describe(`Session store contract: ${name}`, () => {
    let s: ContractSubject;
    let t0: number;
    beforeEach(async () => {
      s = await make(Date.UTC(2026, 10, 22, 9));
      t0 = await s.clock.now();
    });
    afterEach(async () => {
      await s.cleanup();
    });
    // Whatever these calls replace is recorded under a fresh outbox entry each time.
    const sessions = () => withEndings(s.store.sessions);
    /** An end of session `key`, under an id the store made for it (SessionStore.endingId). */
    const ending = (key: string, over: Partial<Ending> = {}): Ending => ({ id: s.store.sessions.endingId(key), reason: 'admin', leaseMs: 30_000, ...over });
    /** The session id a sid of the wiki client leads to, or undefined once its index entry is gone. */
    const sidOwner = async (sidKey: string) => (await sessions().checkBySid(sidKey, 'wiki', 'passive')).session?.id;

    it('starts a session at the shared clock\'s now', async () => {
      const { session, now, replaced } = await sessions().login('k1', sso());
      expect(now).toBe(t0);
      expect(replaced).toBeUndefined();
      expect(session).toMatchObject({ id: 'uid-1', signedInAt: t0, lastActiveAt: t0, rps: {} });
      expect(await sessions().get('k1')).toEqual(session);
    });

    it('is alive 1 ms before the idle deadline and dead at it', async () => {
      await sessions().login('k1', sso());
      await s.clock.set(t0 + 15 * MIN - 1);
      expect((await sessions().check('k1', undefined, 'passive')).sso).toBe('alive');
      await s.clock.set(t0 + 15 * MIN);
      const dead = await sessions().check('k1', undefined, 'passive');
      expect(dead.sso).toBe('dead');
      expect(dead.deadlines).toEqual({ idleAt: t0 + 15 * MIN, absoluteAt: t0 + 60 * MIN });
    });

    it('moves idle on active checks only', async () => {
      await sessions().login('k1', sso());
      await s.clock.set(t0 + 10 * MIN);
      await sessions().check('k1', undefined, 'passive');
      await s.clock.set(t0 + 15 * MIN - 1);
      const active = await sessions().check('k1', undefined, 'active');
      expect(active.session?.lastActiveAt).toBe(t0 + 15 * MIN - 1);
      await s.clock.set(t0 + 30 * MIN - 2);
      expect((await sessions().check('k1', undefined, 'passive')).sso).toBe('alive');
      await s.clock.set(t0 + 30 * MIN - 1);
      expect((await sessions().check('k1', undefined, 'passive')).sso).toBe('dead');
    });

    it('is dead at the absolute deadline however active, and activity cannot revive it', async () => {
      await sessions().login('k1', sso());
      for (let m = 10; m < 60; m += 10) {
        await s.clock.set(t0 + m * MIN);
        expect((await sessions().check('k1', undefined, 'active')).sso).toBe('alive');
      }
      await s.clock.set(t0 + 60 * MIN - 1);
      expect((await sessions().check('k1', undefined, 'active')).sso).toBe('alive');
      await s.clock.set(t0 + 60 * MIN);
      const dead = await sessions().check('k1', undefined, 'active');
      expect(dead.sso).toBe('dead');
      expect(dead.session?.lastActiveAt).toBe(t0 + 60 * MIN - 1);
    });

    it('keeps signedInAt on a sign-in inside a live session (step-up never extends the absolute limit)', async () => {
      await sessions().login('k1', sso({ idleSeconds: 3600 }));
      await s.clock.set(t0 + 50 * MIN);
      const { session, replaced } = await sessions().login('k1', sso({ idleSeconds: 3600, ip: '10.0.0.2' }));
      expect(replaced).toBeUndefined();
      expect(session).toMatchObject({ signedInAt: t0, lastActiveAt: t0 + 50 * MIN, ip: '10.0.0.2' });
      await s.clock.set(t0 + 60 * MIN);
      expect((await sessions().check('k1', undefined, 'passive')).sso).toBe('dead');
    });

    it('replaces a dead session, or another user\'s, with a new one and hands back the old', async () => {
      await sessions().login('k1', sso());
      await sessions().addRp('k1', rp('wiki'));
      await s.clock.set(t0 + 15 * MIN);
      const again = await sessions().login('k1', sso());
      expect(again.replaced).toMatchObject({ signedInAt: t0 });
      expect(again.replaced?.rps.wiki).toBeDefined();
      expect(again.session).toMatchObject({ signedInAt: t0 + 15 * MIN, rps: {} });
      expect(await sidOwner('hsid-wiki')).toBeUndefined();
      const other = await sessions().login('k1', sso({ user: 'usr_b' }));
      expect(other.replaced?.user).toBe('usr_a');
      expect(other.session.user).toBe('usr_b');
    });

    it('counts RP sessions not yet ended, through every step that starts or ends one', async () => {
      const live = () => s.store.sessions.liveRpSessions();
      expect(await live()).toBe(0);
      await sessions().login('k1', sso());
      await sessions().addRp('k1', rp('wiki'));
      await sessions().addRp('k1', rp('mail'));
      await sessions().login('k2', sso({ id: 'uid-2' }));
      await sessions().addRp('k2', rp('wiki', { sid: 'sid-wiki-2', sidKey: 'hsid-wiki-2' }));
      expect(await live()).toBe(3);
      // The same RP session recorded again is not another one; a new sid replaces the old one.
      await sessions().addRp('k1', rp('wiki'));
      await sessions().addRp('k1', rp('wiki', { sid: 'sid-wiki-b', sidKey: 'hsid-wiki-b' }));
      expect(await live()).toBe(3);
      // Past its deadline but not yet ended (no sweeper has taken it): still counted, as SSO sessions are.
      await s.clock.set(t0 + 5 * MIN);
      expect(await live()).toBe(3);
      await sessions().endRp('k1', 'mail', ending('k1'));
      await sessions().endRp('k1', 'mail', ending('k1'));
      expect(await live()).toBe(2);
      // A new RP session at a client whose previous one ended is counted again.
      await sessions().addRp('k1', rp('mail', { sid: 'sid-mail-b', sidKey: 'hsid-mail-b' }));
      expect(await live()).toBe(3);
      await sessions().end('k2', ending('k2'));
      await sessions().end('k2', ending('k2'));
      expect(await live()).toBe(2);
      // A session replaced at sign-in ends its RP sessions with it.
      await sessions().login('k1', sso({ user: 'usr_b' }));
      expect(await live()).toBe(0);
    });

    it('gives RP sessions their own, stricter deadlines, capped by the SSO session', async () => {
      await sessions().login('k1', sso());
      await s.clock.set(t0 + MIN);
      const added = await sessions().addRp('k1', rp('wiki'));
      expect(added.session?.rps.wiki).toMatchObject({ sid: 'sid-wiki', startedAt: t0 + MIN, lastActiveAt: t0 + MIN });
      expect(await sidOwner('hsid-wiki')).toBe('uid-1');
      await s.clock.set(t0 + 6 * MIN - 1);
      expect(await sessions().check('k1', 'wiki', 'passive')).toMatchObject({ sso: 'alive', rp: 'alive', deadlines: { idleAt: t0 + 6 * MIN } });
      await s.clock.set(t0 + 6 * MIN);
      expect(await sessions().check('k1', 'wiki', 'passive')).toMatchObject({ sso: 'alive', rp: 'dead' });
      expect(await sessions().check('k1', 'other', 'passive')).toMatchObject({ sso: 'alive', rp: 'missing' });
    });

    it('judges an RP session by its sid in one step, for its own client', async () => {
      await sessions().login('k1', sso());
      await sessions().addRp('k1', rp('wiki'));
      await s.clock.set(t0 + 4 * MIN);
      const active = await sessions().checkBySid('hsid-wiki', 'wiki', 'active');
      expect(active).toMatchObject({ sso: 'alive', rp: 'alive', session: { id: 'uid-1', rps: { wiki: { lastActiveAt: t0 + 4 * MIN } } } });
      expect(await sessions().checkBySid('hsid-wiki', 'mail', 'passive')).toEqual({ now: t0 + 4 * MIN, sso: 'missing', rp: 'missing' });
      expect(await sessions().checkBySid('nope', 'wiki', 'passive')).toMatchObject({ sso: 'missing', rp: 'missing' });
      await s.clock.set(t0 + 9 * MIN);
      expect(await sessions().checkBySid('hsid-wiki', 'wiki', 'passive')).toMatchObject({ sso: 'alive', rp: 'dead' });
    });

    it('writes nothing for an active signal naming another client\'s sid: the session still dies on time', async () => {
      await sessions().login('k1', sso());
      await sessions().addRp('k1', rp('wiki'));
      await sessions().addRp('k1', rp('mail', { idleSeconds: 900 }));
      const before = await sessions().get('k1');
      await s.clock.set(t0 + 14 * MIN);
      // mail's client with wiki's sid, and a client with no RP session in it at all.
      expect(await sessions().checkBySid('hsid-wiki', 'mail', 'active')).toEqual({ now: t0 + 14 * MIN, sso: 'missing', rp: 'missing' });
      expect(await sessions().checkBySid('hsid-wiki', 'intruder', 'active')).toEqual({ now: t0 + 14 * MIN, sso: 'missing', rp: 'missing' });
      expect(await sessions().get('k1')).toEqual(before);
      await s.clock.set(t0 + 15 * MIN);
      expect((await sessions().check('k1', undefined, 'passive')).sso).toBe('dead');
    });

    it('moves an RP\'s idle only with an active signal for that RP, and the SSO\'s with it', async () => {
      await sessions().login('k1', sso());
      await sessions().addRp('k1', rp('wiki'));
      await sessions().addRp('k1', rp('mail', { idleSeconds: 900 }));
      await s.clock.set(t0 + 4 * MIN);
      const touched = await sessions().check('k1', 'wiki', 'active');
      expect(touched.session?.lastActiveAt).toBe(t0 + 4 * MIN);
      expect(touched.session?.rps.wiki?.lastActiveAt).toBe(t0 + 4 * MIN);
      expect(touched.session?.rps.mail?.lastActiveAt).toBe(t0);
    });

    it('touches every live RP session with touchAll', async () => {
      await sessions().login('k1', sso());
      await sessions().addRp('k1', rp('wiki'));
      await sessions().addRp('k1', rp('mail'));
      await s.clock.set(t0 + 4 * MIN);
      const all = await sessions().touchAll('k1');
      expect(all.session?.rps.wiki?.lastActiveAt).toBe(t0 + 4 * MIN);
      expect(all.session?.rps.mail?.lastActiveAt).toBe(t0 + 4 * MIN);
    });

    it('replaces a dead RP session of the client with a new one', async () => {
      await sessions().login('k1', sso());
      await sessions().addRp('k1', rp('wiki'));
      await s.clock.set(t0 + 5 * MIN);
      await sessions().check('k1', undefined, 'active');
      const next = await sessions().addRp('k1', rp('wiki', { sid: 'sid-2', sidKey: 'hsid-2' }));
      expect(next.replaced).toMatchObject({ sid: 'sid-wiki', startedAt: t0 });
      expect(next.session?.rps.wiki).toMatchObject({ sid: 'sid-2', startedAt: t0 + 5 * MIN });
      expect(await sidOwner('hsid-wiki')).toBeUndefined();
      expect(await sidOwner('hsid-2')).toBe('uid-1');
    });

    it('adds no RP session to a dead SSO session', async () => {
      await sessions().login('k1', sso());
      await s.clock.set(t0 + 15 * MIN);
      expect((await sessions().addRp('k1', rp('wiki'))).session).toBeUndefined();
    });

    it('ends a session exactly once, with its indexes', async () => {
      await sessions().login('k1', sso());
      await sessions().addRp('k1', rp('wiki'));
      const endings = [ending('k1'), ending('k1'), ending('k1')];
      const ends = await Promise.all(endings.map((e) => sessions().end('k1', e)));
      expect(ends.filter(Boolean)).toHaveLength(1);
      // The one end recorded what it owes in the same step; the others recorded nothing.
      const entries = (await Promise.all(endings.map((e) => s.store.ended.get(e.id)))).filter(Boolean);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ reason: 'admin', scope: 'sso', endedAt: t0, queued: false, session: { id: 'uid-1' }, rps: [{ client: 'wiki', sid: 'sid-wiki' }] });
      expect(await s.store.ended.size()).toBe(1);
      expect(ends.find(Boolean)?.rps.wiki).toBeDefined();
      expect(await sessions().get('k1')).toBeUndefined();
      expect(await sidOwner('hsid-wiki')).toBeUndefined();
      expect(await sessions().keysOfOrg('acme')).toEqual([]);
      expect((await sessions().check('k1', 'wiki', 'active')).sso).toBe('missing');
    });

    it('ends one RP session exactly once, leaving a tombstone that keeps it dead until replaced', async () => {
      await sessions().login('k1', sso());
      await sessions().addRp('k1', rp('wiki'));
      await sessions().addRp('k1', rp('mail'));
      await s.clock.set(t0 + MIN);
      const endings = [ending('k1', { reason: 'idle', deadlineAt: t0 + 30_000 }), ending('k1', { reason: 'idle', deadlineAt: t0 + 30_000 })];
      const ends = await Promise.all(endings.map((e) => sessions().endRp('k1', 'wiki', e)));
      expect(ends.filter(Boolean)).toHaveLength(1);
      expect(ends.find(Boolean)).toMatchObject({ client: 'wiki', endedAt: t0 + MIN });
      const entries = (await Promise.all(endings.map((e) => s.store.ended.get(e.id)))).filter(Boolean);
      expect(entries).toHaveLength(1);
      expect(entries[0]).toMatchObject({ reason: 'idle', scope: 'rp', deadlineAt: t0 + 30_000, endedAt: t0 + MIN, rps: [{ client: 'wiki', endedAt: t0 + MIN }] });
      expect(entries[0]!.session.rps.mail?.endedAt).toBeUndefined();
      expect(await sessions().check('k1', 'wiki', 'active')).toMatchObject({ sso: 'alive', rp: 'dead' });
      expect(await sessions().check('k1', 'mail', 'passive')).toMatchObject({ sso: 'alive', rp: 'alive' });
      expect(await sidOwner('hsid-wiki')).toBeUndefined();
      const replaced = await sessions().addRp('k1', rp('wiki', { sid: 'sid-3', sidKey: 'hsid-3' }));
      expect(replaced.session?.rps.wiki).toMatchObject({ sid: 'sid-3', startedAt: t0 + MIN });
      expect(replaced.session?.rps.wiki?.endedAt).toBeUndefined();
      expect(await sessions().check('k1', 'wiki', 'passive')).toMatchObject({ rp: 'alive' });
    });

    it('rewrites limits and judges with them at once', async () => {
      await sessions().login('k1', sso());
      await sessions().addRp('k1', rp('wiki'));
      await s.clock.set(t0 + 10 * MIN);
      const tightened = await sessions().setLimits('k1', { idleSeconds: 300, absoluteSeconds: 3600, warningSeconds: 60, refreshIsActivity: true, rps: { wiki: { idleSeconds: 120, absoluteSeconds: 600, refreshIsActivity: true } } });
      expect(tightened.sso).toBe('dead');
      const stored = await sessions().get('k1');
      expect(stored).toMatchObject({ idleSeconds: 300, warningSeconds: 60, refreshIsActivity: true, rps: { wiki: { idleSeconds: 120, absoluteSeconds: 600, refreshIsActivity: true } } });
    });

    it('keeps each RP session\'s own refreshIsActivity, and a policy change rewrites it', async () => {
      await sessions().login('k1', sso({ refreshIsActivity: false }));
      await sessions().addRp('k1', rp('wiki', { refreshIsActivity: true }));
      await sessions().addRp('k1', rp('blog'));
      expect((await sessions().get('k1'))?.rps).toMatchObject({ wiki: { refreshIsActivity: true }, blog: { refreshIsActivity: false } });
      await sessions().setLimits('k1', { idleSeconds: 900, absoluteSeconds: 3600, warningSeconds: 120, refreshIsActivity: false, rps: { wiki: { idleSeconds: 300, absoluteSeconds: 1800, refreshIsActivity: false }, blog: { idleSeconds: 300, absoluteSeconds: 1800, refreshIsActivity: true } } });
      expect((await sessions().get('k1'))?.rps).toMatchObject({ wiki: { refreshIsActivity: false }, blog: { refreshIsActivity: true } });
    });

    describe('activity counts and warning windows', () => {
      it('counts every one of 50 concurrent signals by source, with the latest time and client, and moves no deadline', async () => {
        await sessions().login('k1', sso());
        await sessions().addRp('k1', rp('wiki'));
        await s.clock.set(t0 + MIN);
        await Promise.all(Array.from({ length: 50 }, () => sessions().countActivity('k1', 'bearer', 'wiki')));
        await sessions().countActivity('k1', 'refresh', undefined);
        const stored = await sessions().get('k1');
        expect(stored?.activity).toEqual({ bearer: { count: 50, lastAt: t0 + MIN, lastClient: 'wiki' }, refresh: { count: 1, lastAt: t0 + MIN } });
        expect(stored?.lastActiveAt).toBe(t0);
        await sessions().countActivity('missing', 'bearer', 'wiki');
        expect(await sessions().get('missing')).toBeUndefined();
      });

      it('records a warning window once, for exactly one of 50 concurrent callers; a new window again once', async () => {
        await sessions().login('k1', sso());
        await sessions().addRp('k1', rp('wiki'));
        const first = await Promise.all(Array.from({ length: 50 }, () => sessions().markWarned('k1', 'wiki', t0 + 4 * MIN)));
        expect(first.filter(Boolean)).toHaveLength(1);
        expect(await sessions().markWarned('k1', 'wiki', t0 + 4 * MIN)).toBe(false);
        expect(await sessions().markWarned('k1', 'wiki', t0 + 9 * MIN)).toBe(true);
        expect((await sessions().get('k1'))?.rps.wiki?.warnedFor).toBe(t0 + 9 * MIN);
      });

      it('records no warning for a missing or ended RP session', async () => {
        await sessions().login('k1', sso());
        await sessions().addRp('k1', rp('wiki'));
        expect(await sessions().markWarned('k1', 'blog', t0)).toBe(false);
        expect(await sessions().markWarned('nope', 'wiki', t0)).toBe(false);
        await sessions().endRp('k1', 'wiki', ending('k1'));
        expect(await sessions().markWarned('k1', 'wiki', t0)).toBe(false);
      });
    });

    it('lists sessions by org and by user', async () => {
      await sessions().login('k1', sso());
      await sessions().login('k2', sso({ id: 'uid-2', user: 'usr_b' }));
      await sessions().login('k3', sso({ id: 'uid-3', org: 'globex', user: 'usr_c' }));
      expect((await sessions().keysOfOrg('acme')).sort()).toEqual(['k1', 'k2']);
      expect(await sessions().keysOfUser('usr_b')).toEqual(['k2']);
    });
  });
}
