import { afterEach, describe, expect, it } from 'vitest';
import { signIn, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';

const MIN = 60_000;
const POLICY = {
  idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 7200, warningSeconds: 120, mfa: 'off',
  rules: [
    { name: 'staff', match: { roles: ['staff'] }, absoluteTimeoutSeconds: 3600 },
    { name: 'app', match: { clients: ['acme-app'] }, refreshIsActivity: true },
  ],
  ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 },
};
const basic = `Basic ${Buffer.from('acme-app:acme-app-secret-0123456789').toString('base64')}`;
const iso = (ms: number) => new Date(ms).toISOString();

describe.each(STORE_KINDS)('the session\'s story in the audit (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('tells when it started with which limits, each warning window once, the activity by source, and how it ended', async () => {
    const seed = testSeed();
    seed.orgs[0]!.policy = POLICY as typeof seed.orgs[0]['policy'];
    h = await startCurfew(kind, { seed });
    const t0 = await h.clock.now();
    const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
    const sid = signed.claims.sid as string;
    const poll = () => fetch(`${h!.url}/session/status?sid=${encodeURIComponent(sid)}`, { headers: { authorization: basic } });
    const report = () => fetch(`${h!.url}/session/activity`, { method: 'POST', headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ sid }) });
    const events = async (type: 'session.started' | 'session.warned' | 'session.ended') => (await h!.store.audit.query({ org: 'acme', type, limit: 100 })).items.reverse();

    const started = await events('session.started');
    expect(started.map((e) => e.data)).toEqual([
      expect.objectContaining({ scope: 'sso', idleSeconds: 900, absoluteSeconds: 3600, warningSeconds: 120, decidedBy: { idle: 'default', absolute: 'rule:staff' }, idleExpiresAt: iso(t0 + 15 * MIN), absoluteExpiresAt: iso(t0 + 60 * MIN) }),
      expect.objectContaining({ scope: 'rp', idleSeconds: 900, absoluteSeconds: 3600, refreshIsActivity: true, decidedBy: { idle: 'default', absolute: 'rule:staff', refreshIsActivity: 'rule:app' } }),
    ]);
    expect(started[1]).toMatchObject({ client: 'acme-app', session: started[0]!.session });

    // 1 ms before the warning window: no warning. Inside it, 50 concurrent polls: one event.
    await h.clock.set(t0 + 13 * MIN - 1);
    await poll();
    expect(await events('session.warned')).toHaveLength(0);
    await h.clock.set(t0 + 13 * MIN);
    const answers = await Promise.all(Array.from({ length: 50 }, async () => (await poll()).json() as Promise<{ active: boolean }>));
    expect(answers.every((a) => a.active)).toBe(true);
    const warned = await events('session.warned');
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatchObject({ client: 'acme-app', data: { warningAt: iso(t0 + 13 * MIN), expiresAt: iso(t0 + 15 * MIN), secondsLeft: 120 } });

    // "Stay signed in": activity moves the deadline; the next window warns once again.
    await h.clock.set(t0 + 14 * MIN);
    expect((await report()).status).toBe(200);
    await h.clock.set(t0 + 27 * MIN + 500);
    await Promise.all([poll(), poll(), poll()]);
    expect((await events('session.warned')).map((e) => e.data?.warningAt)).toEqual([iso(t0 + 13 * MIN), iso(t0 + 27 * MIN)]);

    // The user stops; the sweeper processes the end 250 ms after the deadline.
    await h.clock.set(t0 + 29 * MIN + 250);
    await h.curfew.sweeper.tick();
    const ended = await events('session.ended');
    expect(ended).toHaveLength(1);
    expect(ended[0]!.data).toMatchObject({
      reason: 'idle', scope: 'sso', clients: ['acme-app'],
      lastActiveAt: iso(t0 + 14 * MIN), idleSeconds: 900, deadline: iso(t0 + 29 * MIN), lateMs: 250, processedAt: iso(t0 + 29 * MIN + 250),
      activity: { rp_report: { count: 1, lastAt: t0 + 14 * MIN, lastClient: 'acme-app' } },
    });
  });

  it('tells an admin revocation with the idle time incurred up to it and no deadline', async () => {
    h = await startCurfew(kind);
    const t0 = await h.clock.now();
    await signIn(h, h.userAgent(), 'acme-app', 'alice');
    const [session] = await h.curfew.sessions.list('acme');
    await h.clock.set(t0 + 4 * MIN);
    await h.curfew.sessions.end(session!.id, 'admin');
    const [ended] = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 1 })).items;
    expect(ended!.data).toMatchObject({ reason: 'admin', lastActiveAt: iso(t0), idleSeconds: 240, processedAt: iso(t0 + 4 * MIN) });
    expect(ended!.data).not.toHaveProperty('deadline');
  });
});
