import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RP_CALLBACK, signIn, startCurfew, STORE_KINDS, type Harness, type SignIn } from '../support/curfew.ts';

const MIN = 60_000;
const APP_ORIGIN = new URL(RP_CALLBACK).origin;

type Body = Record<string, unknown>;

describe.each(STORE_KINDS)('/session/status and /session/activity with the RP session\'s access token (%s store)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = async (path: 'status' | 'activity', token: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${h.url}/session/${path}`, { method: path === 'status' ? 'GET' : 'POST', headers: { authorization: `Bearer ${token}`, ...headers } });
    return { res, body: (await res.json()) as Body };
  };
  const sessionOf = async (signed: SignIn) => (await h.curfew.sessions.list('acme')).find((s) => Object.values(s.rps).some((rp) => rp.sid === signed.claims.sid))!;

  it('answers the token\'s own RP session, passively for status and actively for activity, without a client secret', async () => {
    const t0 = await h.clock.now();
    const signed = await signIn(h, h.userAgent(), 'acme-spa', 'alice');
    const started = (await sessionOf(signed)).rps['acme-spa']!.lastActiveAt;
    await h.clock.set(t0 + 5 * MIN);
    const status = await call('status', signed.tokens.access_token);
    expect(status.res.status).toBe(200);
    expect(status.body).toMatchObject({ active: true, idleExpiresAt: new Date(started + 15 * MIN).toISOString() });
    expect((await sessionOf(signed)).rps['acme-spa']!.lastActiveAt).toBe(started);
    const activity = await call('activity', signed.tokens.access_token);
    expect(activity.body).toMatchObject({ active: true, idleExpiresAt: new Date(t0 + 20 * MIN).toISOString() });
    const after = await sessionOf(signed);
    expect(after.rps['acme-spa']!.lastActiveAt).toBe(t0 + 5 * MIN);
    expect(after.activity?.bearer).toMatchObject({ count: 1, lastAt: t0 + 5 * MIN, lastClient: 'acme-spa' });
  });

  it('answers {active:false} for an unknown or revoked token, and for a dead session; nothing is revived', async () => {
    expect((await call('status', 'not-a-token')).body).toEqual({ active: false });
    expect((await call('activity', 'not-a-token')).body).toEqual({ active: false });

    const revoked = await signIn(h, h.userAgent(), 'acme-app', 'alice');
    await oidc.tokenRevocation(await h.rp('acme-app'), revoked.tokens.access_token, { token_type_hint: 'access_token' });
    expect((await call('activity', revoked.tokens.access_token)).body).toEqual({ active: false });

    const t1 = await h.clock.now();
    const dead = await signIn(h, h.userAgent(), 'acme-app', 'alice');
    const uid = (await sessionOf(dead)).id;
    await h.clock.set(t1 + 15 * MIN + 1000);
    expect((await call('activity', dead.tokens.access_token)).body).toEqual({ active: false });
    // Nothing was moved: even back before its deadline, nothing answers for it.
    await h.clock.set(t1 + MIN);
    expect((await call('activity', dead.tokens.access_token)).body).toEqual({ active: false });
    const left = await h.curfew.sessions.get(uid);
    // Ended, or (where the token's own session record went first) still unmoved for the sweeper to end.
    expect(left === undefined || (left.lastActiveAt === t1 && left.rps['acme-app']?.lastActiveAt === t1)).toBe(true);
  });

  it('refuses the token in the query string with 400', async () => {
    const res = await fetch(`${h.url}/session/status?access_token=x`);
    expect(res.status).toBe(400);
  });
});

describe('bearer status: CORS and rate limit', () => {
  let h: Harness;
  let signed: SignIn;
  beforeAll(async () => {
    h = await startCurfew('memory');
    signed = await signIn(h, h.userAgent(), 'acme-spa', 'alice');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('answers CORS to the origins of the client\'s redirect URIs only, never with credentials', async () => {
    for (const path of ['status', 'activity']) {
      const res = await fetch(`${h.url}/session/${path}`, { method: path === 'status' ? 'GET' : 'POST', headers: { authorization: `Bearer ${signed.tokens.access_token}`, origin: APP_ORIGIN } });
      expect(res.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
      expect(res.headers.get('access-control-allow-credentials')).toBeNull();
      expect(res.headers.get('vary')).toMatch(/origin/i);
      const evil = await fetch(`${h.url}/session/${path}`, { method: path === 'status' ? 'GET' : 'POST', headers: { authorization: `Bearer ${signed.tokens.access_token}`, origin: 'https://evil.example' } });
      expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    }
  });

  it('lets a registered app\'s page read {active:false} for a token that died with its session; other origins cannot', async () => {
    const dead = (origin: string) => fetch(`${h.url}/session/status`, { headers: { authorization: 'Bearer revoked-or-unknown', origin } });
    const ok = await dead(APP_ORIGIN);
    expect(await ok.json()).toEqual({ active: false });
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect((await dead('https://evil.example')).headers.get('access-control-allow-origin')).toBeNull();
  });

  it('answers a preflight for a registered app origin, and nothing CORS for another origin', async () => {
    const preflight = (origin: string) => fetch(`${h.url}/session/activity`, {
      method: 'OPTIONS',
      headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization' },
    });
    const ok = await preflight(APP_ORIGIN);
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP_ORIGIN);
    expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
    expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
    const evil = await preflight('https://evil.example');
    expect(evil.headers.get('access-control-allow-origin')).toBeNull();
    expect(evil.headers.get('access-control-allow-methods')).toBeNull();
  });

  it('limits activity reports per RP session: the excess gets 429 with Retry-After and writes nothing', async () => {
    const before = (await h.curfew.sessions.list('acme'))[0]!.activity?.bearer?.count ?? 0;
    const responses = await Promise.all(Array.from({ length: 80 }, () => fetch(`${h.url}/session/activity`, { method: 'POST', headers: { authorization: `Bearer ${signed.tokens.access_token}` } })));
    const ok = responses.filter((r) => r.status === 200);
    const limited = responses.filter((r) => r.status === 429);
    expect(ok.length + limited.length).toBe(80);
    expect(limited.length).toBeGreaterThan(0);
    expect(Number(limited[0]!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(await limited[0]!.json()).toMatchObject({ error: 'rate_limited' });
    // Only the answered reports were counted: the refused ones wrote nothing.
    const session = (await h.curfew.sessions.list('acme'))[0]!;
    expect(session.activity?.bearer?.count).toBe(before + ok.length);
    // Status stays answerable (passive, not limited), and another session is not affected.
    expect((await (await fetch(`${h.url}/session/status`, { headers: { authorization: `Bearer ${signed.tokens.access_token}` } })).json())).toMatchObject({ active: true });
    const other = await signIn(h, h.userAgent(), 'acme-spa', 'alice');
    expect((await fetch(`${h.url}/session/activity`, { method: 'POST', headers: { authorization: `Bearer ${other.tokens.access_token}` } })).status).toBe(200);
  });
});
