import { describe, expect, it } from 'vitest';
import { createAudit } from '../../src/audit/audit.ts';
import { ManualClock } from '../../src/clock.ts';
import { createLogger } from '../../src/logger.ts';
import type { Org, User } from '../../src/orgs/types.ts';
import { createSessionService, decisionOf, endStory, statusBody, type SessionEnded } from '../../src/sessions/service.ts';
import type { Policy } from '../../src/sessions/policy-types.ts';
import { createIdentifierHasher } from '../../src/crypto/identifier-hash.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';

const IDLE = 900;
const ABSOLUTE = 8 * 3600;
const policy = (over: Partial<Policy> = {}): Policy => ({
  idleTimeoutSeconds: IDLE, absoluteTimeoutSeconds: ABSOLUTE, warningSeconds: 120, mfa: 'off', refreshIsActivity: false,
  allowEnrollmentAtReentry: false, rules: [], ceilings: { idleTimeoutSeconds: 86_400, absoluteTimeoutSeconds: 31 * 86_400 }, ...over,
});
const org: Org = { id: 'acme', name: 'Acme', policy: policy() };
const alice: User = { id: 'u-alice', org: 'acme', username: 'alice', passwordHash: 'x', roles: [], disabled: false, createdAt: new Date().toISOString() };

/** A service over the memory store, its clock pinned from real now; every end it hands out is recorded. */
async function setup() {
  const clock = new ManualClock(Date.now());
  const store = createMemoryStore({ clock });
  await store.directory.putOrg(org);
  await store.directory.putUser(alice);
  const hash = createIdentifierHasher('k'.repeat(32));
  const logger = createLogger('silent');
  const ends: SessionEnded[] = [];
  const steps: string[] = [];
  /** While set, queueing an end's tokens waits on it (a slow store, an RP lookup). */
  const gate: { held?: Promise<void> } = {};
  const consequences = {
    'deliveries-queued': async (ended: SessionEnded) => {
      await gate.held;
      ends.push(ended);
      steps.push('listener');
    },
    'step-up-required': async () => {},
  };
  const sessions = createSessionService({ store, hash, audit: createAudit(store.audit, logger), logger, endLeaseMs: 30_000, consequences });
  const endedEvents = async () => (await store.audit.query({ org: 'acme', type: 'session.ended', limit: 100 })).items;
  return { clock, store, sessions, ends, steps, gate, endedEvents, close: () => store.close() };
}

describe('session service', () => {
  it('answers an end once it is durable when asked (once-durable): the rest follows, and settle() waits for it', async () => {
    const t = await setup();
    await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: undefined });
    await t.sessions.recordRp({ uid: 'uid-1', client: 'wiki', sid: 'sid-1' });
    let release!: () => void;
    t.gate.held = new Promise<void>((r) => (release = r));
    const ended = await t.sessions.end('uid-1', 'logout', { answer: 'once-durable' });
    // Answered: the session is ended and its entry is in the outbox, its tokens not queued yet.
    expect(ended?.rps.map((rp) => rp.client)).toEqual(['wiki']);
    expect(await t.sessions.get('uid-1')).toBeUndefined();
    expect(await t.store.ended.get(ended!.id)).toMatchObject({ id: ended!.id, queued: false });
    expect(t.ends).toHaveLength(0);
    let settled = false;
    const settling = t.sessions.settle().then(() => (settled = true));
    await new Promise((r) => setTimeout(r, 20));
    expect(settled).toBe(false);
    release();
    await settling;
    expect(t.ends.map((e) => e.id)).toEqual([ended!.id]);
    expect((await t.endedEvents()).map((e) => e.data?.end)).toEqual([ended!.id]);
    expect(await t.store.ended.get(ended!.id)).toBeUndefined();
    await t.close();
  });

  it('answers an end by default only once it is finished', async () => {
    const t = await setup();
    await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: undefined });
    await t.sessions.recordRp({ uid: 'uid-1', client: 'wiki', sid: 'sid-1' });
    const ended = await t.sessions.end('uid-1', 'logout');
    expect(t.ends.map((e) => e.id)).toEqual([ended!.id]);
    expect(await t.store.ended.get(ended!.id)).toBeUndefined();
    await t.close();
  });

  it('records a sign-in with the org\'s limits, alive until the idle deadline', async () => {
    const t = await setup();
    const session = await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: '10.0.0.1' });
    expect(session).toMatchObject({ id: 'uid-1', org: 'acme', user: 'u-alice', idleSeconds: IDLE, absoluteSeconds: ABSOLUTE, signedInAt: t.clock.now() });
    expect((await t.sessions.get('uid-1'))?.id).toBe('uid-1');
    await t.close();
  });

  it('is alive 1 ms before the idle deadline; a check at it ends the session (idle), tells the listener and audits once', async () => {
    const t = await setup();
    const start = t.clock.now();
    await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: undefined });
    t.clock.set(start + IDLE * 1000 - 1);
    expect((await t.sessions.check('uid-1', undefined, 'passive')).sso).toBe('alive');
    t.clock.set(start + IDLE * 1000);
    expect((await t.sessions.check('uid-1', undefined, 'passive')).sso).toBe('dead');
    expect(await t.sessions.get('uid-1')).toBeUndefined();
    expect(t.ends).toHaveLength(1);
    expect(t.ends[0]).toMatchObject({ reason: 'idle', scope: 'sso', deadlineAt: start + IDLE * 1000 });
    const events = await t.endedEvents();
    expect(events).toHaveLength(1);
    expect(events[0]?.data).toMatchObject({ reason: 'idle', scope: 'sso', lateMs: 0 });
    // A second look finds nothing to end.
    expect((await t.sessions.check('uid-1', undefined, 'passive')).sso).toBe('missing');
    expect(t.ends).toHaveLength(1);
    await t.close();
  });

  it('moves the idle deadline on an active signal only', async () => {
    const t = await setup();
    const start = t.clock.now();
    await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: undefined });
    t.clock.advance(60_000);
    await t.sessions.check('uid-1', undefined, 'passive');
    expect((await t.sessions.get('uid-1'))?.lastActiveAt).toBe(start);
    await t.sessions.check('uid-1', undefined, 'active', 'authorize');
    const session = await t.sessions.get('uid-1');
    expect(session?.lastActiveAt).toBe(start + 60_000);
    expect(session?.activity?.authorize?.count).toBe(1);
    // Alive past the first idle deadline, because of that signal.
    t.clock.set(start + IDLE * 1000);
    expect((await t.sessions.check('uid-1', undefined, 'passive')).sso).toBe('alive');
    await t.close();
  });

  it('checkCountingLater judges as check does and hands the count over; nothing is counted for a passive or dead check', async () => {
    const t = await setup();
    const start = t.clock.now();
    await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: undefined });
    t.clock.advance(60_000);
    const { check, counted } = await t.sessions.checkCountingLater('uid-1', undefined, 'active', 'authorize');
    expect(check.sso).toBe('alive');
    expect((await t.sessions.get('uid-1'))?.lastActiveAt).toBe(start + 60_000);
    await counted;
    expect((await t.sessions.get('uid-1'))?.activity?.authorize?.count).toBe(1);
    await (await t.sessions.checkCountingLater('uid-1', undefined, 'passive', 'authorize')).counted;
    expect((await t.sessions.get('uid-1'))?.activity?.authorize?.count).toBe(1);
    t.clock.set(start + 60_000 + IDLE * 1000);
    const late = await t.sessions.checkCountingLater('uid-1', undefined, 'active', 'authorize');
    expect(late.check.sso).toBe('dead');
    await expect(late.counted).resolves.toBeUndefined();
    await t.close();
  });

  it('answers an RP session\'s status by its sid, to its own client only', async () => {
    const t = await setup();
    const start = t.clock.now();
    await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: undefined });
    await t.sessions.recordRp({ uid: 'uid-1', client: 'app', sid: 'sid-app' });
    const status = await t.sessions.statusBySid('sid-app', 'app', 'passive');
    expect(status).toEqual({
      active: true,
      idleExpiresAt: new Date(start + IDLE * 1000).toISOString(),
      absoluteExpiresAt: new Date(start + ABSOLUTE * 1000).toISOString(),
      warningAt: new Date(start + (IDLE - 120) * 1000).toISOString(),
      expiresAt: new Date(start + IDLE * 1000).toISOString(),
    });
    expect(await t.sessions.statusBySid('sid-app', 'other', 'passive')).toEqual({ active: false });
    expect(await t.sessions.statusBySid('no-such-sid', 'app', 'passive')).toEqual({ active: false });
    await t.close();
  });

  it('audits one warning per window when a status is answered inside it', async () => {
    const t = await setup();
    const start = t.clock.now();
    await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: undefined });
    await t.sessions.recordRp({ uid: 'uid-1', client: 'app', sid: 'sid-app' });
    const warned = async () => (await t.store.audit.query({ org: 'acme', type: 'session.warned', limit: 10 })).items.length;
    t.clock.set(start + (IDLE - 120) * 1000 - 1);
    await t.sessions.statusBySid('sid-app', 'app', 'passive');
    expect(await warned()).toBe(0);
    t.clock.set(start + (IDLE - 120) * 1000);
    await t.sessions.statusBySid('sid-app', 'app', 'passive');
    await t.sessions.statusBySid('sid-app', 'app', 'passive');
    expect(await warned()).toBe(1);
    await t.close();
  });

  it('ends an RP session alone: the SSO session lives on and the client needs a fresh sign-in', async () => {
    const t = await setup();
    await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: undefined });
    await t.sessions.recordRp({ uid: 'uid-1', client: 'app', sid: 'sid-app' });
    const ended = await t.sessions.endRp('uid-1', 'app', 'logout');
    expect(ended).toMatchObject({ scope: 'rp', reason: 'logout', rps: [{ client: 'app', sid: 'sid-app' }] });
    expect((await t.sessions.check('uid-1', 'app', 'passive'))).toMatchObject({ sso: 'alive', rp: 'dead' });
    expect(await t.sessions.endRp('uid-1', 'app', 'logout')).toBeUndefined();
    await t.close();
  });

  it('ends a session once: the listener runs before the audit, a second end finds nothing', async () => {
    const t = await setup();
    await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: undefined });
    await t.sessions.recordRp({ uid: 'uid-1', client: 'app', sid: 'sid-app' });
    const ended = await t.sessions.end('uid-1', 'admin');
    expect(ended).toMatchObject({ scope: 'sso', reason: 'admin', rps: [{ client: 'app' }] });
    expect(ended).not.toHaveProperty('deadlineAt');
    expect(await t.sessions.end('uid-1', 'admin')).toBeUndefined();
    expect(t.ends).toHaveLength(1);
    expect(await t.endedEvents()).toHaveLength(1);
    expect(await t.store.ended.size()).toBe(0);
    await t.close();
  });

  it('ends every session of a user', async () => {
    const t = await setup();
    for (const uid of ['a', 'b', 'c']) await t.sessions.recordLogin({ uid, user: alice, org, ip: undefined });
    expect(await t.sessions.endUserSessions('u-alice', 'user_disabled')).toBe(3);
    expect(await t.sessions.list('acme')).toEqual([]);
    expect(t.ends.map((e) => e.reason)).toEqual(['user_disabled', 'user_disabled', 'user_disabled']);
    await t.close();
  });

  it('applies a tightened policy to live sessions at once, ending those past the new deadline', async () => {
    const t = await setup();
    const start = t.clock.now();
    await t.sessions.recordLogin({ uid: 'old', user: alice, org, ip: undefined });
    t.clock.set(start + 10 * 60_000);
    await t.sessions.recordLogin({ uid: 'new', user: alice, org, ip: undefined });
    await t.store.directory.putOrg({ ...org, policy: policy({ idleTimeoutSeconds: 5 * 60 }) });
    expect(await t.sessions.applyPolicy('acme')).toEqual({ recomputed: 2, ended: 1 });
    expect(await t.sessions.get('old')).toBeUndefined();
    expect((await t.sessions.get('new'))?.idleSeconds).toBe(5 * 60);
    expect(t.ends[0]).toMatchObject({ reason: 'policy' });
    await t.close();
  });

  it('sweeps a session nobody looked at once its deadline passes', async () => {
    const t = await setup();
    const start = t.clock.now();
    await t.sessions.recordLogin({ uid: 'uid-1', user: alice, org, ip: undefined });
    expect((await t.store.sessions.claimDue(10, 30_000)).keys).toEqual([]);
    t.clock.set(start + IDLE * 1000);
    const { keys } = await t.store.sessions.claimDue(10, 30_000);
    expect(keys).toHaveLength(1);
    expect(await t.sessions.sweep(keys[0]!)).toBe(1);
    expect(t.ends[0]).toMatchObject({ reason: 'idle', deadlineAt: start + IDLE * 1000 });
    await t.close();
  });
});

describe('session service, pure parts', () => {
  const now = Date.now();
  const session = { id: 'u', org: 'acme', user: 'x', signedInAt: now, lastActiveAt: now, idleSeconds: 60, absoluteSeconds: 600, warningSeconds: 10, refreshIsActivity: false, rps: {} };

  it('decisionOf: missing without a session or the named RP session; alive only when both live', () => {
    expect(decisionOf({ now, sso: 'missing' }, undefined)).toBe('missing');
    expect(decisionOf({ now, sso: 'alive', session }, 'app')).toBe('missing');
    expect(decisionOf({ now, sso: 'alive', session }, undefined)).toBe('alive');
    expect(decisionOf({ now, sso: 'dead', session }, undefined)).toBe('dead');
    const withRp = { ...session, rps: { app: { client: 'app', sid: 's', sidKey: 'k', startedAt: now, lastActiveAt: now, idleSeconds: 60, absoluteSeconds: 600 } } };
    expect(decisionOf({ now, sso: 'alive', rp: 'dead', session: withRp }, 'app')).toBe('dead');
    expect(decisionOf({ now, sso: 'alive', rp: 'alive', session: withRp }, 'app')).toBe('alive');
  });

  it('statusBody: inactive when dead or without deadlines', () => {
    expect(statusBody(undefined, 10, true)).toEqual({ active: false });
    expect(statusBody({ idleAt: now + 1, absoluteAt: now + 2 }, 10, false)).toEqual({ active: false });
    expect(statusBody({ idleAt: now + 60_000, absoluteAt: now + 30_000 }, 10, true)).toMatchObject({ expiresAt: new Date(now + 30_000).toISOString(), warningAt: new Date(now + 20_000).toISOString() });
  });

  it('endStory: idle time runs to the deadline for a timeout, to the end otherwise, and lateness is never negative', () => {
    const timeout = endStory({ scope: 'sso', session: { ...session, lastActiveAt: now - 60_000 }, rps: [], deadlineAt: now }, now + 250);
    expect(timeout).toMatchObject({ idleSeconds: 60, lateMs: 250, deadline: new Date(now).toISOString() });
    const logout = endStory({ scope: 'sso', session: { ...session, lastActiveAt: now - 30_000 }, rps: [] }, now);
    expect(logout.idleSeconds).toBe(30);
    expect(logout).not.toHaveProperty('lateMs');
    expect(endStory({ scope: 'sso', session, rps: [], deadlineAt: now + 5 }, now).lateMs).toBe(0);
  });
});
