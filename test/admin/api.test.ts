import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';

const API = '/admin/api/v1';

describe.each(STORE_KINDS)('admin API (%s store)', (kind) => {
  let h: Harness;
  let token: string;
  let globexToken: string;

  beforeAll(async () => {
    const seed = testSeed();
    (seed.orgs[1]!.clients as Array<Record<string, unknown>>).push({
      client_id: 'globex-admin', client_secret: 'globex-admin-secret-0123456789', redirect_uris: ['http://127.0.0.1:9/callback'], adminApi: true,
    });
    h = await startCurfew(kind, { seed, config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });
    token = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
    globexToken = (await oidc.clientCredentialsGrant(await h.rp('globex-admin'), { scope: 'admin' })).access_token;
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = async (method: string, path: string, body?: unknown, bearer: string | null = token) => {
    const headers: Record<string, string> = {};
    if (bearer) headers.authorization = `Bearer ${bearer}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${h.url}${API}${path}`, { method, headers, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
  };
  const lastWrite = async () => (await h.store.audit.query({ org: 'acme', type: 'admin.write', limit: 1 })).items[0];

  describe('authentication and isolation', () => {
    it('refuses a request without a token, with a bad token, and with a token lacking the admin scope', async () => {
      const none = await call('GET', '/orgs/acme/policy', undefined, null);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toContain('invalid_token');
      expect((await call('GET', '/orgs/acme/policy', undefined, 'not-a-token')).status).toBe(401);
      const plain = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: '' })).access_token;
      const scoped = await call('GET', '/orgs/acme/policy', undefined, plain);
      expect(scoped.status).toBe(403);
      expect(scoped.body.error).toBe('insufficient_scope');
    });

    it('answers 404 for another org, whatever the resource', async () => {
      for (const path of ['/orgs/globex/policy', '/orgs/globex/users', '/orgs/globex/sessions', '/orgs/nope/users']) {
        expect((await call('GET', path)).status, path).toBe(404);
      }
      const carol = (await h.store.directory.findUserByName('globex', 'carol'))!;
      expect((await call('PATCH', `/orgs/acme/users/${carol.id}`, { roles: ['x'] })).status).toBe(404);
      expect((await call('DELETE', '/orgs/acme/clients/globex-app')).status).toBe(404);
      expect((await call('GET', '/orgs/globex/users', undefined, globexToken)).status).toBe(200);
    });

    it('guards every endpoint: no token 401, no admin scope 403, another org 404', async () => {
      const carol = (await h.store.directory.findUserByName('globex', 'carol'))!;
      const endpoints: Array<[string, string, unknown?]> = [
        ['GET', '/orgs/{org}/policy'],
        ['PUT', '/orgs/{org}/policy', { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600 }],
        ['POST', '/orgs/{org}/policy/preview', { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600 }],
        ['GET', '/orgs/{org}/policy/explain?user=x'],
        ['GET', '/orgs/{org}/sessions'],
        ['DELETE', '/orgs/{org}/sessions/x'],
        ['DELETE', `/orgs/{org}/users/${carol.id}/sessions`],
        ['GET', '/orgs/{org}/users'],
        ['POST', '/orgs/{org}/users', { username: 'zed', password: 'zed password 1' }],
        ['PATCH', `/orgs/{org}/users/${carol.id}`, { roles: [] }],
        ['DELETE', `/orgs/{org}/users/${carol.id}`],
        ['POST', `/orgs/{org}/users/${carol.id}/totp/reset`],
        ['GET', '/orgs/{org}/clients'],
        ['POST', '/orgs/{org}/clients', { client_id: 'zz', redirect_uris: ['https://z.example/cb'] }],
        ['PATCH', '/orgs/{org}/clients/globex-app', { redirect_uris: ['https://z.example/cb'] }],
        ['DELETE', '/orgs/{org}/clients/globex-app'],
        ['GET', '/orgs/{org}/audit'],
        ['GET', '/orgs/{org}/deliveries'],
        ['POST', '/orgs/{org}/deliveries/x/retry'],
      ];
      const plain = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: '' })).access_token;
      for (const [method, template, payload] of endpoints) {
        const path = template.replace('{org}', 'globex');
        expect((await call(method, path, payload, null)).status, `${method} ${path} without a token`).toBe(401);
        expect((await call(method, path, payload, plain)).status, `${method} ${path} without the scope`).toBe(403);
        expect((await call(method, path, payload)).status, `${method} ${path} from another org`).toBe(404);
      }
      // Nothing of globex changed.
      expect(await h.store.directory.getUser(carol.id)).toBeDefined();
      expect(await h.store.directory.getClient('globex-app')).toBeDefined();
    });

    it('publishes an OpenAPI document of every path', async () => {
      const res = await fetch(`${h.url}${API}/openapi.json`);
      const doc = (await res.json()) as { openapi: string; paths: Record<string, unknown> };
      expect(doc.openapi).toBe('3.1.0');
      for (const path of ['/policy', '/policy/preview', '/policy/explain', '/sessions', '/sessions/{id}', '/users', '/users/{user}', '/users/{user}/sessions', '/users/{user}/totp/reset', '/clients', '/clients/{client}', '/audit', '/deliveries', '/deliveries/{id}/retry']) {
        expect(doc.paths).toHaveProperty(`/admin/api/v1/orgs/{org}${path}`);
      }
    });
  });

  describe('policy', () => {
    it('reads, rejects a bad policy whole naming every field, and replaces a good one with an audit entry', async () => {
      const before = (await call('GET', '/orgs/acme/policy')).body;
      expect(before.idleTimeoutSeconds).toBe(900);
      const bad = await call('PUT', '/orgs/acme/policy', { ...before, idleTimeoutSeconds: 10, warningSeconds: -1, rules: [{ name: 'r', match: { clients: ['nope'] }, idleTimeoutSeconds: 300 }] });
      expect(bad.status).toBe(400);
      expect(bad.body.fields.map((f: { field: string }) => f.field)).toEqual(expect.arrayContaining(['warningSeconds']));
      expect((await call('GET', '/orgs/acme/policy')).body).toEqual(before);
      expect((await call('PUT', '/orgs/acme/policy', '{not json')).status).toBe(400);

      const next = { ...before, idleTimeoutSeconds: 1200, rules: [{ name: 'admins', match: { roles: ['admin'] }, idleTimeoutSeconds: 300 }] };
      const ok = await call('PUT', '/orgs/acme/policy', next);
      expect(ok.status).toBe(200);
      expect(ok.body.policy.idleTimeoutSeconds).toBe(1200);
      const changed = (await h.store.audit.query({ org: 'acme', type: 'policy.changed', limit: 1 })).items[0];
      expect(changed).toMatchObject({ actor: 'client:acme-admin', data: { before: { idleTimeoutSeconds: 900 }, after: { idleTimeoutSeconds: 1200 } } });
    });

    it('previews a policy against live sessions without changing anything, and saving then does what it said', async () => {
      const t0 = await h.clock.now();
      const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      const early = { session: (await h.curfew.sessions.list('acme')).find((s) => Object.values(s.rps).some((rp) => rp.sid === signed.claims.sid))!.id, claims: signed.claims };
      await h.clock.set(t0 + 5 * 60_000);
      const current = (await call('GET', '/orgs/acme/policy')).body;
      const next = { ...current, idleTimeoutSeconds: 300 };
      const writes = (await h.store.audit.query({ org: 'acme', limit: 100 })).items.length;
      const preview = await call('POST', '/orgs/acme/policy/preview', next);
      expect(preview.status).toBe(200);
      expect(preview.body.policy).toMatchObject({ idleTimeoutSeconds: 300 });
      // The session idle since t0 has exactly 5 min: its new deadline is now, so it ends.
      const mine = preview.body.preview.affected.find((a: { session: string }) => a.session === early.session);
      expect(mine).toEqual({
        session: early.session, user: early.claims.sub, username: 'alice', outcome: 'ends',
        expiresAt: new Date(t0 + current.idleTimeoutSeconds * 1000).toISOString(), newExpiresAt: new Date(t0 + 300_000).toISOString(), apps: [],
      });
      expect(preview.body.preview.now).toBe(new Date(t0 + 5 * 60_000).toISOString());
      expect(preview.body.preview.endNow).toBeGreaterThanOrEqual(1);
      // Nothing changed: the policy, the session, the audit trail.
      expect((await call('GET', '/orgs/acme/policy')).body).toEqual(current);
      expect((await h.curfew.sessions.list('acme')).some((s) => s.id === early.session)).toBe(true);
      expect((await h.store.audit.query({ org: 'acme', limit: 100 })).items.length).toBe(writes);

      const bad = await call('POST', '/orgs/acme/policy/preview', { ...next, idleTimeoutSeconds: 10, rules: [{ name: 'n', match: { networks: ['10.0.0.0/99'] }, idleTimeoutSeconds: 600 }] });
      expect(bad.status).toBe(400);
      expect(bad.body.fields.map((f: { field: string }) => f.field)).toEqual(expect.arrayContaining(['idleTimeoutSeconds', 'rules.0.match.networks.0']));
      expect((await call('POST', '/orgs/acme/policy/preview', '{not json')).status).toBe(400);

      const saved = await call('PUT', '/orgs/acme/policy', next);
      expect(saved.body.endedSessions).toBe(preview.body.preview.endedSessions);
      expect((await h.curfew.sessions.list('acme')).some((s) => s.id === early.session)).toBe(false);
      expect((await call('PUT', '/orgs/acme/policy', current)).status).toBe(200);
    });

    it('explains the effective limits and the deciding rules', async () => {
      const bob = await call('GET', '/orgs/acme/policy/explain?user=bob&client=acme-app&ip=10.0.0.1');
      expect(bob.status).toBe(200);
      expect(bob.body.sso.decidedBy.idle).toBe('rule:admins');
      expect(bob.body.rp).toMatchObject({ refreshIsActivity: false, decidedBy: { refreshIsActivity: 'default' } });
      expect((await call('GET', '/orgs/acme/policy/explain')).status).toBe(400);
      expect((await call('GET', '/orgs/acme/policy/explain?user=carol')).status).toBe(404);
    });
  });

  describe('sessions', () => {
    it('lists live sessions and revokes one, or all of a user\'s, with audit entries', async () => {
      const ua = h.userAgent();
      const signed = await signIn(h, ua, 'acme-app', 'alice');
      const list = await call('GET', `/orgs/acme/sessions?user=${signed.claims.sub}`);
      expect(list.status).toBe(200);
      const session = list.body.sessions.find((s: { rpSessions: Array<{ sid: string }> }) => s.rpSessions.some((rp) => rp.sid === signed.claims.sid));
      expect(session).toMatchObject({ user: signed.claims.sub, rpSessions: [{ client: 'acme-app', sid: signed.claims.sid }] });
      expect((await call('GET', '/orgs/acme/sessions?client=acme-app')).body.sessions.length).toBeGreaterThan(0);

      expect((await call('DELETE', `/orgs/acme/sessions/${session.id}`)).status).toBe(204);
      expect(await lastWrite()).toMatchObject({ actor: 'client:acme-admin', data: { action: 'session.revoke', target: session.id } });
      await expect(oidc.refreshTokenGrant(await h.rp('acme-app'), signed.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect((await call('DELETE', `/orgs/acme/sessions/${session.id}`)).status).toBe(404);

      await signIn(h, h.userAgent(), 'acme-app', 'alice');
      await signIn(h, h.userAgent(), 'acme-app', 'alice');
      const all = await call('DELETE', `/orgs/acme/users/${signed.claims.sub}/sessions`);
      expect(all.body.ended).toBe(2);
      expect(await lastWrite()).toMatchObject({ data: { action: 'user.sessions.revoke', target: signed.claims.sub, after: { ended: 2 } } });
      const reasons = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 3 })).items.map((e) => e.data?.reason);
      expect(reasons).toEqual(['admin', 'admin', 'admin']);
    });
  });

  describe('users', () => {
    it('creates, updates, disables (ending sessions), resets TOTP and deletes, never showing a hash', async () => {
      const invalid = await call('POST', '/orgs/acme/users', { username: '', password: 'short', roles: ['Bad Role'], extra: 1 });
      expect(invalid.status).toBe(400);
      expect(invalid.body.fields.map((f: { field: string }) => f.field)).toEqual(expect.arrayContaining(['username', 'password', 'roles.0']));
      expect((await call('POST', '/orgs/acme/users', { username: 'alice', password: 'long enough password' })).status).toBe(400);

      const created = await call('POST', '/orgs/acme/users', { username: 'Erin', password: 'erin password 1', roles: ['staff'] });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ username: 'erin', roles: ['staff'], disabled: false });
      expect(JSON.stringify(created.body)).not.toMatch(/argon2|passwordHash/);
      expect(await lastWrite()).toMatchObject({ data: { action: 'user.create', target: created.body.id } });
      const list = await call('GET', '/orgs/acme/users');
      expect(list.body.users.map((u: { username: string }) => u.username)).toContain('erin');
      expect(JSON.stringify(list.body)).not.toMatch(/argon2|passwordHash/);

      const updated = await call('PATCH', `/orgs/acme/users/${created.body.id}`, { roles: ['staff', 'admin'] });
      expect(updated.body.roles).toEqual(['staff', 'admin']);
      expect(await lastWrite()).toMatchObject({ data: { action: 'user.update', before: { roles: ['staff'] }, after: { roles: ['staff', 'admin'] } } });
      expect((await call('PATCH', `/orgs/acme/users/${created.body.id}`, { roles: 'admin' })).status).toBe(400);

      const alice = (await h.store.directory.findUserByName('acme', 'alice'))!;
      const signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
      const disabled = await call('PATCH', `/orgs/acme/users/${alice.id}`, { disabled: true });
      expect(disabled.body.disabled).toBe(true);
      await expect(oidc.refreshTokenGrant(await h.rp('acme-app'), signed.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
      expect((await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 1 })).items[0]?.data?.reason).toBe('user_disabled');
      await call('PATCH', `/orgs/acme/users/${alice.id}`, { disabled: false });

      await h.curfew.mfa.enrollSecret((await h.store.directory.getUser(created.body.id))!, 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP');
      expect((await call('POST', `/orgs/acme/users/${created.body.id}/totp/reset`)).status).toBe(204);
      expect(await h.curfew.mfa.isEnrolled(created.body.id)).toBe(false);
      expect(await lastWrite()).toMatchObject({ data: { action: 'user.totp.reset', before: { enrolled: true } } });

      expect((await call('DELETE', `/orgs/acme/users/${created.body.id}`)).status).toBe(204);
      expect(await lastWrite()).toMatchObject({ data: { action: 'user.delete', target: created.body.id, before: { username: 'erin' } } });
      expect(await h.store.directory.getUser(created.body.id)).toBeUndefined();
      expect((await call('DELETE', `/orgs/acme/users/${created.body.id}`)).status).toBe(404);
    });
  });

  describe('clients', () => {
    it('registers with back-channel URI checks, updates, never shows secrets, and deletes', async () => {
      const refused = await call('POST', '/orgs/acme/clients', { client_id: 'wiki', client_secret: 'wiki-secret-0123456789', redirect_uris: ['https://wiki.example/cb'], backchannel_logout_uri: 'https://10.0.0.5/bcl' });
      expect(refused.status).toBe(400);
      expect(refused.body.fields).toEqual([{ field: 'backchannel_logout_uri', message: expect.stringMatching(/private|loopback/) }]);
      const bad = await call('POST', '/orgs/acme/clients', { client_id: 'bad id!', redirect_uris: [] });
      expect(bad.body.fields.map((f: { field: string }) => f.field)).toEqual(expect.arrayContaining(['client_id', 'redirect_uris']));
      expect((await call('POST', '/orgs/acme/clients', { client_id: 'globex-app', redirect_uris: ['https://x.example/cb'] })).status).toBe(409);

      const created = await call('POST', '/orgs/acme/clients', { client_id: 'wiki', client_secret: 'wiki-secret-0123456789', redirect_uris: ['https://wiki.example/cb'], backchannel_logout_uri: 'https://wiki.example/bcl' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ client_id: 'wiki', org: 'acme', hasSecret: true });
      expect(JSON.stringify(created.body)).not.toContain('wiki-secret');
      expect(JSON.stringify(await lastWrite())).not.toContain('wiki-secret');

      const patched = await call('PATCH', '/orgs/acme/clients/wiki', { redirect_uris: ['https://wiki.example/cb2'] });
      expect(patched.body.redirect_uris).toEqual(['https://wiki.example/cb2']);
      expect(await lastWrite()).toMatchObject({ data: { action: 'client.update', before: { redirect_uris: ['https://wiki.example/cb'] } } });
      expect((await call('PATCH', '/orgs/acme/clients/wiki', { backchannel_logout_uri: 'http://127.0.0.2:80/x' })).status).toBe(400);
      expect((await call('GET', '/orgs/acme/clients')).body.clients.map((c: { client_id: string }) => c.client_id)).toContain('wiki');
      expect((await call('DELETE', '/orgs/acme/clients/wiki')).status).toBe(204);
      expect(await lastWrite()).toMatchObject({ data: { action: 'client.delete', target: 'wiki' } });
      expect((await call('POST', '/orgs/acme/clients', { client_id: 'curfew-console-x', redirect_uris: ['https://x.example/cb'] })).status).toBe(400);
      expect(await h.store.directory.getClient('wiki')).toBeUndefined();
    });
  });

  describe('audit and deliveries', () => {
    it('pages the audit trail with filters and a cursor; rejects bad filters', async () => {
      const first = await call('GET', '/orgs/acme/audit?limit=2');
      expect(first.body.items).toHaveLength(2);
      const second = await call('GET', `/orgs/acme/audit?limit=2&cursor=${first.body.nextCursor}`);
      expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
      const typed = await call('GET', '/orgs/acme/audit?type=login.succeeded&limit=5');
      expect(typed.body.items.every((e: { type: string }) => e.type === 'login.succeeded')).toBe(true);
      expect((await call('GET', '/orgs/acme/audit?type=made.up')).status).toBe(400);
      expect((await call('GET', '/orgs/acme/audit?since=yesterday')).status).toBe(400);
      expect((await call('GET', '/orgs/acme/audit?limit=0')).status).toBe(400);
    });

    it('lists dead deliveries and retries one, audited', async () => {
      const client = (await h.store.directory.getClient('acme-app'))!;
      await h.store.directory.putClient({ ...client, backchannel_logout_uri: 'http://127.0.0.1:9/bcl' });
      const signed = await signIn(h, h.userAgent(), 'acme-app', 'bob');
      await call('DELETE', `/orgs/acme/users/${signed.claims.sub}/sessions`);
      for (let i = 0; i < h.config.backchannel.maxAttempts; i++) {
        await h.curfew.sender.tick();
        await h.clock.advance(h.config.backchannel.maxDelayMs);
      }
      // The shared clock moved past the admin token's lifetime (memory store): take a new one.
      token = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
      const dead = await call('GET', '/orgs/acme/deliveries?state=dead');
      expect(dead.body.deliveries.length).toBeGreaterThan(0);
      expect((await call('GET', '/orgs/acme/deliveries?state=lost')).status).toBe(400);
      const id = dead.body.deliveries[0].id;
      expect((await call('POST', `/orgs/acme/deliveries/${id}/retry`)).status).toBe(202);
      expect(await lastWrite()).toMatchObject({ data: { action: 'delivery.retry', target: id } });
      expect((await call('GET', '/orgs/acme/deliveries?state=pending')).body.deliveries.map((d: { id: string }) => d.id)).toContain(id);
      expect((await call('POST', `/orgs/acme/deliveries/${id}/retry`)).status).toBe(409);
      expect((await call('POST', '/orgs/acme/deliveries/nope/retry')).status).toBe(404);
    });
  });
});
