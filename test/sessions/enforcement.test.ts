import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  authorizationUrl,
  PASSWORDS,
  signIn,
  startCurfew,
  STORE_KINDS,
  testSeed,
  type Harness,
  type SignIn,
} from '../support/curfew.ts';
import type { UserAgent } from '../support/user-agent.ts';

const S = 1000;
const MIN = 60 * S;

/** 15 min idle, 1 h absolute; admins 5 min idle; acme-other 2 min idle; the office network 30 min. */
const POLICY = {
  idleTimeoutSeconds: 900,
  absoluteTimeoutSeconds: 3600,
  warningSeconds: 60,
  mfa: 'off',
  rules: [
    { name: 'admins', match: { roles: ['admin'] }, idleTimeoutSeconds: 300 },
    { name: 'other-app', match: { clients: ['acme-other'] }, idleTimeoutSeconds: 120 },
    { name: 'office', match: { networks: ['10.20.0.0/16', '2001:db8:20::/48'] }, idleTimeoutSeconds: 1800 },
    { name: 'lab', match: { networks: ['10.30.0.0/16'] }, idleTimeoutSeconds: 7200 },
  ],
  ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 },
};

function seed(policy: Record<string, unknown> = POLICY) {
  const s = testSeed();
  s.orgs[0]!.policy = policy as typeof s.orgs[0]['policy'];
  return s;
}

/**
 * Everything an RP can try at the current shared time: refresh (which, when it works, gives a
 * fresh access token), userinfo and introspection with the newest access token, prompt=none.
 */
/**
 * Every enforcement point at the clock's current time: the access token the RP holds (userinfo,
 * introspection), then a refresh, then a silent authorization. The held token is used before the
 * refresh: a token issued within a session's last second lives less than a second (its lifetime
 * is capped by the session's remaining life, in whole seconds), so judging the one just issued
 * would test the clock's fraction of a second, not the session.
 */
async function probe(h: Harness, clientId: string, ua: UserAgent, signed: SignIn) {
  const rp = await h.rp(clientId);
  const introspection = await oidc.tokenIntrospection(rp, signed.tokens.access_token);
  const userinfo = await fetch(`${h.url}/me`, { headers: { authorization: `Bearer ${signed.tokens.access_token}` } });
  let refresh: string;
  try {
    signed.tokens = await oidc.refreshTokenGrant(rp, signed.tokens.refresh_token!);
    refresh = 'ok';
  } catch (e) {
    refresh = (e as { error?: string }).error ?? String(e);
  }
  const silent = await authorizationUrl(rp, { prompt: 'none' });
  const page = await ua.navigate(silent.url.href);
  if (!page.leftTo) throw new Error(`prompt=none stayed on ${page.url}: ${page.status}`);
  const authorization = new URL(page.leftTo).searchParams;
  return {
    introspection: introspection.active,
    userinfo: userinfo.status,
    authorization: authorization.get('error') ?? (authorization.get('code') ? 'code' : 'none'),
    refresh,
  };
}

const ALIVE = { introspection: true, userinfo: 200, authorization: 'code', refresh: 'ok' };

/** A refresh (passive: it moves no deadline) so the RP holds an access token of a few minutes. */
async function renew(h: Harness, clientId: string, signed: SignIn): Promise<void> {
  signed.tokens = await oidc.refreshTokenGrant(await h.rp(clientId), signed.tokens.refresh_token!);
}
const DEAD = { introspection: false, userinfo: 401, authorization: 'login_required', refresh: 'invalid_grant' };

describe.each(STORE_KINDS)('session enforcement with a controlled clock (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function start(policy?: Record<string, unknown>) {
    h = await startCurfew(kind, { seed: seed(policy) });
    return h;
  }

  describe('SSO idle limit', () => {
    it('is alive at every enforcement point 1 ms before the deadline, and dead at it', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const ua = h.userAgent();
      const signed = await signIn(h, ua, 'acme-app', 'alice');
      await h.clock.set(t0 + 13 * MIN);
      await renew(h, 'acme-app', signed);
      await h.clock.set(t0 + 15 * MIN - 1);
      expect(await probe(h, 'acme-app', ua, signed)).toEqual(ALIVE);
      await h.clock.set(t0 + 15 * MIN);
      expect(await probe(h, 'acme-app', ua, signed)).toEqual(DEAD);

      const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 5 })).items;
      expect(ended).toHaveLength(1);
      expect(ended[0]).toMatchObject({ session: expect.any(String), data: { reason: 'idle', scope: 'sso', clients: ['acme-app'] } });
    });

    it('sends an interactive request back to the login page after the deadline', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const ua = h.userAgent();
      await signIn(h, ua, 'acme-app', 'alice');
      await h.clock.set(t0 + 15 * MIN);
      const page = await ua.navigate((await authorizationUrl(await h.rp('acme-app'))).url.href);
      expect(page.leftTo).toBeUndefined();
      expect(page.html).toContain('Sign in');
      // Signing in again starts a new session with a new absolute deadline and a new sid.
      const again = await ua.submit(page, '/login', { username: 'alice', password: PASSWORDS.alice });
      expect(again.leftTo).toContain('code=');
    });

    it('revokes the grant: an access token still within its own lifetime is refused', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      await h.clock.set(t0 + 15 * MIN);
      const rp = await h.rp('acme-app');
      await expect(oidc.refreshTokenGrant(rp, signed.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      // Even with the clock back (say, a skewed reader), the tokens stay revoked.
      await h.clock.set(t0 + MIN);
      expect((await oidc.tokenIntrospection(rp, signed.tokens.access_token)).active).toBe(false);
      expect((await oidc.tokenIntrospection(rp, signed.tokens.refresh_token!)).active).toBe(false);
    });
  });

  describe('SSO absolute limit', () => {
    it('ends the session at signedInAt + absolute however active the user is', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const ua = h.userAgent();
      const signed = await signIn(h, ua, 'acme-app', 'alice');
      const rp = await h.rp('acme-app');
      for (let m = 10; m < 60; m += 10) {
        await h.clock.set(t0 + m * MIN);
        const page = await ua.navigate((await authorizationUrl(rp)).url.href);
        expect(page.leftTo, `at ${m} min`).toContain('code=');
      }
      await h.clock.set(t0 + 58 * MIN);
      await renew(h, 'acme-app', signed);
      await h.clock.set(t0 + 60 * MIN - 1);
      expect(await probe(h, 'acme-app', ua, signed)).toEqual(ALIVE);
      await h.clock.set(t0 + 60 * MIN);
      expect(await probe(h, 'acme-app', ua, signed)).toEqual(DEAD);
      const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 5 })).items;
      expect(ended[0]?.data).toMatchObject({ reason: 'absolute' });
    });

    it('is not extended by a step-up sign-in inside the live session', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const ua = h.userAgent();
      const first = await signIn(h, ua, 'acme-app', 'alice');
      await h.clock.set(t0 + 10 * MIN);
      for (let m = 10; m <= 50; m += 10) {
        await h.clock.set(t0 + m * MIN);
        await ua.navigate((await authorizationUrl(await h.rp('acme-app'))).url.href);
      }
      // prompt=login forces a fresh sign-in within the live session.
      const rp = await h.rp('acme-app');
      const request = await authorizationUrl(rp, { prompt: 'login' });
      const login = await ua.navigate(request.url.href);
      expect(login.html).toContain('Sign in');
      const done = await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice });
      const tokens = await oidc.authorizationCodeGrant(rp, new URL(done.leftTo!), { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
      const stepUp = { tokens, claims: tokens.claims()! };
      expect(stepUp.claims.sid).toBe(first.claims.sid);
      expect(stepUp.claims.auth_time).toBeGreaterThanOrEqual(first.claims.auth_time!);
      const sessions = (await h.store.audit.query({ org: 'acme', type: 'session.started', limit: 5 })).items;
      // One SSO session and its one RP session started; the step-up started neither again.
      expect(sessions.map((e) => e.data?.scope).sort()).toEqual(['rp', 'sso']);
      await h.clock.set(t0 + 60 * MIN - 1);
      expect((await probe(h, 'acme-app', ua, stepUp)).refresh).toBe('ok');
      await h.clock.set(t0 + 60 * MIN);
      expect((await probe(h, 'acme-app', ua, stepUp)).refresh).toBe('invalid_grant');
    });
  });

  describe('what counts as activity', () => {
    it('refresh grants are passive: refreshing does not keep an idle user signed in', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      const rp = await h.rp('acme-app');
      let tokens = signed.tokens;
      for (const m of [5, 10, 14]) {
        await h.clock.set(t0 + m * MIN);
        tokens = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
      }
      await h.clock.set(t0 + 15 * MIN);
      await expect(oidc.refreshTokenGrant(rp, tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it('refresh grants are activity when the org sets refreshIsActivity', async () => {
      const h = await start({ ...POLICY, refreshIsActivity: true });
      const t0 = await h.clock.now();
      const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      const rp = await h.rp('acme-app');
      await h.clock.set(t0 + 14 * MIN);
      const tokens = await oidc.refreshTokenGrant(rp, signed.tokens.refresh_token!);
      await h.clock.set(t0 + 29 * MIN - 1);
      const again = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
      await h.clock.set(t0 + 29 * MIN - 1 + 15 * MIN);
      await expect(oidc.refreshTokenGrant(rp, again.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    });

    it('prompt=none is passive; an interactive request is active', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const ua = h.userAgent();
      await signIn(h, ua, 'acme-app', 'alice');
      const rp = await h.rp('acme-app');
      await h.clock.set(t0 + 10 * MIN);
      const silent = await ua.navigate((await authorizationUrl(rp, { prompt: 'none' })).url.href);
      expect(silent.leftTo).toContain('code=');
      await h.clock.set(t0 + 15 * MIN);
      const dead = await ua.navigate((await authorizationUrl(rp, { prompt: 'none' })).url.href);
      expect(new URL(dead.leftTo!).searchParams.get('error')).toBe('login_required');

      const ua2 = h.userAgent();
      const t1 = await h.clock.now();
      await signIn(h, ua2, 'acme-app', 'alice');
      await h.clock.set(t1 + 10 * MIN);
      await ua2.navigate((await authorizationUrl(rp)).url.href);
      await h.clock.set(t1 + 24 * MIN);
      const alive = await ua2.navigate((await authorizationUrl(rp, { prompt: 'none' })).url.href);
      expect(alive.leftTo).toContain('code=');
    });

    it('an RP activity report moves idle; a status request never does', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      const sid = signed.claims.sid as string;
      const auth = `Basic ${Buffer.from('acme-app:acme-app-secret-0123456789').toString('base64')}`;
      const status = async () => (await fetch(`${h!.url}/session/status?sid=${encodeURIComponent(sid)}`, { headers: { authorization: auth } })).json() as Promise<Record<string, unknown>>;
      const activity = async () => (await fetch(`${h!.url}/session/activity`, {
        method: 'POST', headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ sid }),
      })).json() as Promise<Record<string, unknown>>;

      await h.clock.set(t0 + 5 * MIN);
      expect(await status()).toEqual({
        active: true,
        idleExpiresAt: new Date(t0 + 15 * MIN).toISOString(),
        absoluteExpiresAt: new Date(t0 + 60 * MIN).toISOString(),
        warningAt: new Date(t0 + 14 * MIN).toISOString(),
        expiresAt: new Date(t0 + 15 * MIN).toISOString(),
      });
      await h.clock.set(t0 + 10 * MIN);
      const moved = await activity();
      expect(moved).toMatchObject({ active: true, idleExpiresAt: new Date(t0 + 25 * MIN).toISOString(), warningAt: new Date(t0 + 24 * MIN).toISOString() });
      await h.clock.set(t0 + 25 * MIN - 1);
      expect((await status()).active).toBe(true);
      await h.clock.set(t0 + 25 * MIN);
      expect(await status()).toEqual({ active: false });
      // A dead sid is not revived by an activity report.
      expect(await activity()).toEqual({ active: false });
      await expect(oidc.refreshTokenGrant(await h.rp('acme-app'), signed.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    });
  });

  describe('rules', () => {
    it('a stricter client rule ends only that client\'s RP session', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const ua = h.userAgent();
      const app = await signIn(h, ua, 'acme-app', 'alice');
      const other = await signIn(h, ua, 'acme-other', 'alice');
      await h.clock.set(t0 + 2 * MIN - 1);
      expect((await probe(h, 'acme-other', ua, other)).refresh).toBe('ok');
      // Everything the probe did was passive, so the RP session still idles from its start.
      await h.clock.set(t0 + 2 * MIN);
      expect(await probe(h, 'acme-other', ua, other)).toEqual(DEAD);
      expect(await probe(h, 'acme-app', ua, app)).toEqual(ALIVE);
      const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 5 })).items;
      expect(ended[0]).toMatchObject({ data: { reason: 'idle', scope: 'rp', clients: ['acme-other'] } });
    });

    it('a dead RP session needs a new sign-in for that client only, and gets a new sid', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const ua = h.userAgent();
      await signIn(h, ua, 'acme-app', 'alice');
      const other = await signIn(h, ua, 'acme-other', 'alice');
      await h.clock.set(t0 + 3 * MIN);
      const page = await ua.navigate((await authorizationUrl(await h.rp('acme-other'))).url.href);
      expect(page.html).toContain('Sign in');
      const rp = await h.rp('acme-other');
      const request = await authorizationUrl(rp);
      const login = await ua.navigate(request.url.href);
      const done = await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice });
      const tokens = await oidc.authorizationCodeGrant(rp, new URL(done.leftTo!), { pkceCodeVerifier: request.verifier, expectedState: request.state, expectedNonce: request.nonce });
      expect(tokens.claims()!.sid).not.toBe(other.claims.sid);
      // The other app never noticed anything.
      const app = await ua.navigate((await authorizationUrl(await h.rp('acme-app'), { prompt: 'none' })).url.href);
      expect(app.leftTo).toContain('code=');
    });

    it('a role rule shortens an admin\'s session and nobody else\'s', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const uaBob = h.userAgent();
      const uaAlice = h.userAgent();
      const bob = await signIn(h, uaBob, 'acme-app', 'bob');
      const alice = await signIn(h, uaAlice, 'acme-app', 'alice');
      await h.clock.set(t0 + 5 * MIN - 1);
      expect((await probe(h, 'acme-app', uaBob, bob)).refresh).toBe('ok');
      await h.clock.set(t0 + 5 * MIN);
      expect(await probe(h, 'acme-app', uaBob, bob)).toEqual(DEAD);
      expect(await probe(h, 'acme-app', uaAlice, alice)).toEqual(ALIVE);
    });

    it('a network rule loosens idle for its network (IPv4 and IPv6), within the ceiling', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const office = h.userAgent({ ip: '10.20.7.7' });
      const office6 = h.userAgent({ ip: '2001:db8:20::5' });
      const lab = h.userAgent({ ip: '10.30.1.1' });
      const home = h.userAgent({ ip: '192.0.2.10' });
      const sessions = {
        office: await signIn(h, office, 'acme-app', 'alice'),
        office6: await signIn(h, office6, 'acme-app', 'alice'),
        lab: await signIn(h, lab, 'acme-app', 'alice'),
        home: await signIn(h, home, 'acme-app', 'alice'),
      };
      const refresh = async (name: keyof typeof sessions) => (await probe(h, 'acme-app', { office, office6, lab, home }[name], sessions[name])).refresh;
      await h.clock.set(t0 + 15 * MIN);
      expect(await refresh('home')).toBe('invalid_grant');
      await h.clock.set(t0 + 30 * MIN - 1);
      expect(await refresh('office')).toBe('ok');
      expect(await refresh('office6')).toBe('ok');
      await h.clock.set(t0 + 30 * MIN);
      expect(await refresh('office')).toBe('invalid_grant');
      expect(await refresh('office6')).toBe('invalid_grant');
      // The lab rule asks for 2 h; the ceiling allows 1 h.
      await h.clock.set(t0 + 60 * MIN - 1);
      expect(await refresh('lab')).toBe('ok');
      await h.clock.set(t0 + 60 * MIN);
      expect(await refresh('lab')).toBe('invalid_grant');
    });
  });

  describe('policy changes', () => {
    it('recompute live sessions at once and end those already past a new deadline', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const early = h.userAgent();
      const late = h.userAgent();
      const a = await signIn(h, early, 'acme-app', 'alice');
      await h.clock.set(t0 + 8 * MIN);
      const b = await signIn(h, late, 'acme-app', 'alice');
      await h.clock.set(t0 + 10 * MIN);

      const org = await h.store.directory.getOrg('acme');
      const change = await h.curfew.changePolicy('acme', { ...org!.policy, idleTimeoutSeconds: 300 }, 'test');
      expect(change).toMatchObject({ recomputed: 2, ended: 1 });
      expect(await probe(h, 'acme-app', early, a)).toEqual(DEAD);
      // The later session is recomputed: idle 5 min from its last activity at 8 min.
      await h.clock.set(t0 + 13 * MIN - 1);
      expect((await probe(h, 'acme-app', late, b)).refresh).toBe('ok');
      await h.clock.set(t0 + 13 * MIN);
      expect((await probe(h, 'acme-app', late, b)).refresh).toBe('invalid_grant');

      const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 5 })).items;
      expect(ended.map((e) => e.data?.reason)).toContain('policy');
      const changed = (await h.store.audit.query({ org: 'acme', type: 'policy.changed', limit: 1 })).items[0];
      expect(changed).toMatchObject({ actor: 'test', data: { before: { idleTimeoutSeconds: 900 }, after: { idleTimeoutSeconds: 300 } } });
    });

    it('apply through a seed reload', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const ua = h.userAgent();
      const signed = await signIn(h, ua, 'acme-app', 'alice');
      await h.clock.set(t0 + 6 * MIN);
      const { parseSeed } = await import('../../src/provisioning/seed.ts');
      await h.curfew.applySeed(parseSeed(seed({ ...POLICY, idleTimeoutSeconds: 300 })));
      expect(await probe(h, 'acme-app', ua, signed)).toEqual(DEAD);
    });
  });

  describe('access tokens', () => {
    it('never outlive the RP session', async () => {
      const h = await start();
      const t0 = await h.clock.now();
      const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      expect(signed.tokens.expires_in).toBeLessThanOrEqual(600);
      await h.clock.set(t0 + 14 * MIN);
      const refreshed = await oidc.refreshTokenGrant(await h.rp('acme-app'), signed.tokens.refresh_token!);
      expect(refreshed.expires_in).toBeLessThanOrEqual(60);
      expect(refreshed.expires_in).toBeGreaterThanOrEqual(58);
    });
  });
});
