import { randomUUID } from 'node:crypto';
import * as oidc from 'openid-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signIn, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';
import { RpReceiver } from '../support/rp-receiver.ts';

const API = '/admin/api/v1';

/**
 * Issue 10 items 8 and 15: a deleted client's sessions end and their apps are told; its id is
 * never claimed by anyone (and registering one reveals nothing about who holds it); a logout
 * token reaches a client only while it is the delivery's org's; the console's own client is
 * not the admin API's to change.
 */
describe.each(STORE_KINDS)('deleting clients (%s store)', (kind) => {
  let h: Harness;
  let rp: RpReceiver;
  let acme: string;
  let globex: string;

  beforeEach(async () => {
    rp = new RpReceiver();
    await rp.start();
    const seed = testSeed();
    for (const client of seed.orgs[0]!.clients as Array<Record<string, unknown>>) {
      if (client.client_id === 'acme-app' || client.client_id === 'acme-other') client.backchannel_logout_uri = rp.uri(String(client.client_id));
    }
    (seed.orgs[1]!.clients as Array<Record<string, unknown>>).push({
      client_id: 'globex-admin', client_secret: 'globex-admin-secret-0123456789', redirect_uris: ['http://127.0.0.1:9/callback'], adminApi: true,
    });
    h = await startCurfew(kind, { seed, config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });
    rp.trust(h.url, `${h.url}/jwks`);
    acme = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
    globex = (await oidc.clientCredentialsGrant(await h.rp('globex-admin'), { scope: 'admin' })).access_token;
  });
  afterEach(async () => {
    await h?.close();
    await rp?.close();
  });

  const call = async (token: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${h.url}${API}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
  };

  it('ends the client\'s RP sessions (client_deleted), revokes their grants, and still tells the old URI', async () => {
    const ua = h.userAgent();
    const app = await signIn(h, ua, 'acme-app', 'alice');
    const other = await signIn(h, ua, 'acme-other', 'alice');
    const bob = await signIn(h, h.userAgent(), 'acme-app', 'bob');
    const appRp = await h.rp('acme-app');

    expect((await call(acme, 'DELETE', '/orgs/acme/clients/acme-app')).status).toBe(204);

    const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 10 })).items;
    expect(ended.filter((e) => e.client === 'acme-app').map((e) => e.data?.reason)).toEqual(['client_deleted', 'client_deleted']);
    // Only that client's RP sessions ended: the SSO session and its other app live on.
    const session = (await h.curfew.sessions.get(String((await h.curfew.sessions.list('acme', { user: app.claims.sub }))[0]?.id)))!;
    expect(session.rps['acme-app']?.endedAt).toBeDefined();
    expect(session.rps['acme-other']?.endedAt).toBeUndefined();

    await h.curfew.sender.tick();
    expect(rp.received.map((r) => ({ client: r.client, sid: r.payload.sid, sub: r.payload.sub })).sort((a, b) => String(a.sub).localeCompare(String(b.sub)))).toEqual(
      [
        { client: 'acme-app', sid: app.claims.sid, sub: app.claims.sub },
        { client: 'acme-app', sid: bob.claims.sid, sub: bob.claims.sub },
      ].sort((a, b) => String(a.sub).localeCompare(String(b.sub))),
    );
    expect(await h.store.deliveries.list('acme', 'dead')).toEqual([]);

    // The grant's tokens are gone from the store; the other app's are not.
    expect(await h.curfew.provider.AccessToken.find(app.tokens.access_token)).toBeUndefined();
    expect(await h.curfew.provider.RefreshToken.find(app.tokens.refresh_token!)).toBeUndefined();
    expect(await h.curfew.provider.AccessToken.find(other.tokens.access_token)).toBeDefined();
    await expect(oidc.refreshTokenGrant(appRp, app.tokens.refresh_token!)).rejects.toBeDefined();
  });

  it('never lets another org claim a deleted id, and answers every taken id the same way', async () => {
    expect((await call(acme, 'DELETE', '/orgs/acme/clients/acme-app')).status).toBe(204);
    const register = (token: string, org: string, id: string) =>
      call(token, 'POST', `/orgs/${org}/clients`, { client_id: id, client_secret: 'a-new-secret-0123456789', redirect_uris: ['https://evil.example/cb'], backchannel_logout_uri: 'https://evil.example/bcl' });

    const answers = [
      await register(globex, 'globex', 'acme-app'), // deleted by acme
      await register(acme, 'acme', 'acme-app'), // deleted by acme itself
      await register(globex, 'globex', 'acme-other'), // held by another org
      await register(acme, 'acme', 'acme-other'), // held by this org
    ];
    for (const answer of answers) {
      expect(answer).toEqual({ status: 409, body: { error: 'conflict', error_description: 'client_id is not available' } });
    }
    expect(await h.store.directory.getClient('acme-app')).toBeUndefined();
    expect((await h.store.directory.getClient('acme-other'))?.org).toBe('acme');
    expect((await call(globex, 'POST', '/orgs/globex/clients', { client_id: 'globex-new', redirect_uris: ['https://g.example/cb'] })).status).toBe(201);
  });

  it('lets exactly one of 50 concurrent registrations of one id from two orgs win', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        call(i % 2 ? acme : globex, 'POST', `/orgs/${i % 2 ? 'acme' : 'globex'}/clients`, { client_id: 'contested', redirect_uris: ['https://c.example/cb'] }),
      ),
    );
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect(results.filter((r) => r.status === 409)).toHaveLength(49);
  });

  it('sends a queued logout token only to a client of the delivery\'s org, judged at send time', async () => {
    const now = await h.store.now();
    const delivery = { org: 'globex', client: 'acme-other', uri: rp.uri('acme-other'), sub: 'usr_someone', sid: 'sid-1', reason: 'admin', session: 's1', endedAt: now, enqueuedAt: now, attempts: 0, state: 'pending' as const, nextAttemptAt: now };
    await h.store.deliveries.enqueue([{ ...delivery, id: randomUUID() }]);
    await h.curfew.sender.tick();
    expect(rp.received).toEqual([]);
    const [dead] = await h.store.deliveries.list('globex', 'dead');
    expect(dead?.lastError).toMatch(/no longer belongs to the delivery's org/);

    // The same delivery for the client's own org goes out.
    await h.store.deliveries.enqueue([{ ...delivery, id: randomUUID(), org: 'acme' }]);
    await h.curfew.sender.tick();
    expect(rp.received.map((r) => r.client)).toEqual(['acme-other']);
  });

  it('refuses to change or delete the console\'s own client, and lists it as internal', async () => {
    const before = await h.store.directory.getClient('curfew-console-acme');
    const patched = await call(acme, 'PATCH', '/orgs/acme/clients/curfew-console-acme', { redirect_uris: ['https://evil.example/cb'], adminApi: true });
    expect(patched.status).toBe(409);
    expect(patched.body.error_description).toMatch(/Curfew's own clients/);
    const deleted = await call(acme, 'DELETE', '/orgs/acme/clients/curfew-console-acme');
    expect(deleted.status).toBe(409);
    expect(await h.store.directory.getClient('curfew-console-acme')).toEqual(before);
    expect(await h.store.directory.getClientTombstone('curfew-console-acme')).toBeUndefined();

    const listed = (await call(acme, 'GET', '/orgs/acme/clients')).body.clients as Array<{ client_id: string; internal: boolean }>;
    expect(listed.find((c) => c.client_id === 'curfew-console-acme')?.internal).toBe(true);
    expect(listed.filter((c) => c.client_id !== 'curfew-console-acme').every((c) => c.internal === false)).toBe(true);
  });

  it('protects the compliance control test\'s client the same way, and reserves both prefixes', async () => {
    const before = (await h.store.directory.getClient('acme-other'))!;
    await h.store.directory.createClient({ ...before, client_id: 'curfew-control-acme', createdAt: new Date().toISOString() });
    expect((await call(acme, 'PATCH', '/orgs/acme/clients/curfew-control-acme', { backchannel_logout_uri: 'https://evil.example/bcl' })).status).toBe(409);
    expect((await call(acme, 'DELETE', '/orgs/acme/clients/curfew-control-acme')).status).toBe(409);
    expect(await h.store.directory.getClient('curfew-control-acme')).toMatchObject({ backchannel_logout_uri: before.backchannel_logout_uri });
    for (const client_id of ['curfew-control-mine', 'curfew-console-mine']) {
      const created = await call(acme, 'POST', '/orgs/acme/clients', { client_id, redirect_uris: ['https://x.example/cb'] });
      expect(created.status, client_id).toBe(400);
      expect(JSON.stringify(created.body.fields)).toMatch(/reserved/);
    }
  });
});
