import Koa from 'koa';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requireAdminToken } from '../../src/admin/auth.ts';
import { consoleSessions } from '../../src/admin/console/console-sessions.ts';
import { errorHandler } from '../../src/http/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { createIdentifierHasher } from '../../src/crypto/identifier-hash.ts';
import { startCurfew, testSeed, type Harness } from '../support/curfew.ts';
import { serve } from '../support/serve.ts';

/**
 * requireAdminToken in front of one echo route, on its own app, with a running Curfew's real
 * provider (tokens it issued) and a console session store over the same store.
 */
describe('admin API authentication (SPEC §11)', () => {
  let h: Harness;
  let server: Awaited<ReturnType<typeof serve>>;
  let console_: ReturnType<typeof consoleSessions>;
  let adminToken: string;
  beforeAll(async () => {
    h = await startCurfew('memory', { seed: testSeed() });
    console_ = consoleSessions(h.store.models, createIdentifierHasher('c'.repeat(32)), 3600);
    const app = new Koa();
    app.keys = ['cookie-signing-key-0123456789abcdef'];
    app.use(errorHandler(createLogger('silent')));
    app.use(async (ctx, next) => {
      if (ctx.path !== '/admin/console-login') return next();
      const user = (await h.store.directory.findUserByName('acme', String(ctx.query.user)))!;
      const sid = String(ctx.query.sid);
      ctx.body = await console_.create(ctx, { org: 'acme', user: user.id, username: user.username, clientId: 'acme-app', sid, idToken: 'x' });
    });
    app.use(requireAdminToken(h.curfew.provider, { consoleSessions: console_, sessions: h.curfew.sessions, directory: h.store.directory }));
    app.use((ctx) => {
      ctx.body = ctx.state.admin;
    });
    server = await serve(app);
    adminToken = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
  });
  afterAll(async () => {
    await server?.close();
    await h?.close();
  });

  const call = async (headers: Record<string, string> = {}, method = 'GET') => {
    const res = await fetch(`${server.url}/admin/api/v1/echo`, { method, headers });
    const text = await res.text();
    return { status: res.status, challenge: res.headers.get('www-authenticate'), body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
  };

  /** An SSO session with a live RP session under `sid`, and a console cookie for it. */
  async function consoleCookie(username: string, sid: string) {
    const user = (await h.store.directory.findUserByName('acme', username))!;
    const uid = `uid-${sid}`;
    await h.curfew.sessions.recordLogin({ uid, user, org: (await h.store.directory.getOrg('acme'))!, ip: undefined });
    await h.curfew.sessions.recordRp({ uid, client: 'acme-app', sid });
    const res = await fetch(`${server.url}/admin/console-login?user=${username}&sid=${sid}`);
    const session = (await res.json()) as { csrf: string };
    return { uid, csrf: session.csrf, cookie: res.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ') };
  }

  it('admits a bearer token an adminApi client obtained with scope admin, for that client\'s org', async () => {
    const answer = await call({ authorization: `Bearer ${adminToken}` });
    expect(answer).toMatchObject({ status: 200, body: { org: 'acme', actor: 'client:acme-admin' } });
  });

  it('refuses no token, a malformed one, or one it never issued with invalid_token (401)', async () => {
    for (const authorization of [undefined, 'Basic abc', 'Bearer', `Bearer ${adminToken}x`, 'Bearer not a token']) {
      const answer = await call(authorization ? { authorization } : {});
      expect(answer.status, String(authorization)).toBe(401);
      expect(answer.body?.error).toBe('invalid_token');
      expect(answer.challenge, String(authorization)).toMatch(/^Bearer\b.*error="invalid_token"/);
    }
  });

  it('refuses a token without the admin scope with insufficient_scope (403)', async () => {
    const token = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), {})).access_token;
    const answer = await call({ authorization: `Bearer ${token}` });
    expect(answer.status).toBe(403);
    expect(answer.body?.error).toBe('insufficient_scope');
  });

  it('admits the console session of an admin for reads, and for writes only with its CSRF token', async () => {
    const { cookie, csrf } = await consoleCookie('bob', 'sid-read');
    expect(await call({ cookie })).toMatchObject({ status: 200, body: { org: 'acme', actor: expect.stringMatching(/^user:/) } });
    expect((await call({ cookie }, 'POST')).status).toBe(403);
    expect((await call({ cookie, 'x-csrf-token': `${csrf}x` }, 'POST')).status).toBe(403);
    expect(await call({ cookie, 'x-csrf-token': csrf }, 'POST')).toMatchObject({ status: 200 });
  });

  it('refuses a console session whose user is no admin (403), and one whose RP session ended (401)', async () => {
    const staff = await consoleCookie('alice', 'sid-staff');
    expect(await call({ cookie: staff.cookie })).toMatchObject({ status: 403, body: { error: 'insufficient_scope' } });
    const ended = await consoleCookie('bob', 'sid-ended');
    await h.curfew.sessions.end(ended.uid, 'logout');
    expect(await call({ cookie: ended.cookie })).toMatchObject({ status: 401, body: { error: 'invalid_token' } });
    const marked = await consoleCookie('bob', 'sid-marked');
    await console_.endSid('sid-marked');
    expect((await call({ cookie: marked.cookie })).status).toBe(401);
  });

  it('judges a bearer token, not the cookie, when both are sent', async () => {
    const { cookie } = await consoleCookie('bob', 'sid-both');
    expect((await call({ cookie, authorization: 'Bearer forged' })).status).toBe(401);
    expect(await call({ cookie, authorization: `Bearer ${adminToken}` })).toMatchObject({ status: 200, body: { actor: 'client:acme-admin' } });
  });
});
