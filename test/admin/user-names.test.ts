import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startCurfew, STORE_KINDS, type Harness } from '../support/curfew.ts';

const API = '/admin/api/v1/orgs/acme';

/** SPEC §11: wherever the admin API names a user, the user's id (`sub`) and the username both work. */
describe.each(STORE_KINDS)('users named by id or username in the admin API (%s store)', (kind) => {
  let h: Harness;
  let token: string;
  let alice: string;
  let bob: string;
  beforeAll(async () => {
    h = await startCurfew(kind);
    token = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
    alice = (await h.store.directory.findUserByName('acme', 'alice'))!.id;
    bob = (await h.store.directory.findUserByName('acme', 'bob'))!.id;
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${h.url}${API}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, unknown> | undefined };
  };

  it('PATCH /users/bob changes bob, as PATCH /users/{id} does', async () => {
    const byName = await call('PATCH', '/users/bob', { roles: ['admin', 'ops'] });
    expect(byName.status).toBe(200);
    expect(byName.body).toMatchObject({ id: bob, username: 'bob', roles: ['admin', 'ops'] });
    const byId = await call('PATCH', `/users/${bob}`, { roles: ['admin'] });
    expect(byId.body).toMatchObject({ id: bob, roles: ['admin'] });
    // Usernames compare as typed: case and spaces do not matter.
    expect((await call('PATCH', '/users/BOB', { roles: ['admin'] })).status).toBe(200);
  });

  it('sessions?user=alice lists alice\'s sessions, as ?user={id} does', async () => {
    await signIn(h, h.userAgent(), 'acme-app', 'alice');
    await signIn(h, h.userAgent(), 'acme-app', 'bob');
    const byName = await call('GET', '/sessions?user=alice');
    const byId = await call('GET', `/sessions?user=${alice}`);
    const users = (r: typeof byName) => (r.body?.sessions as Array<{ user: string }>).map((s) => s.user);
    expect(users(byName)).toEqual([alice]);
    expect(byId.body).toEqual(byName.body);
    expect(users(await call('GET', '/sessions?user=nobody'))).toEqual([]);
  });

  it('audit?user=alice finds alice\'s events, as ?user={id} does', async () => {
    const byName = await call('GET', '/audit?user=alice&type=session.started');
    const items = byName.body?.items as Array<{ user: string }>;
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((e) => e.user === alice)).toBe(true);
    expect((await call('GET', `/audit?user=${alice}&type=session.started`)).body).toEqual(byName.body);
  });

  it('explain takes a username or an id', async () => {
    const byName = await call('GET', '/policy/explain?user=alice');
    expect(byName.status).toBe(200);
    expect((await call('GET', `/policy/explain?user=${alice}`)).body).toEqual(byName.body);
  });

  it('DELETE /users/alice/sessions, password and TOTP reset take a username', async () => {
    expect((await call('DELETE', '/users/alice/sessions')).body).toEqual({ ended: 1 });
    expect((await call('POST', '/users/alice/password', { password: 'alice password 2' })).status).toBe(204);
    expect((await call('POST', '/users/alice/totp/reset')).status).toBe(204);
  });

  it("another org's username is not found", async () => {
    expect((await call('PATCH', '/users/carol', { roles: [] })).status).toBe(404);
    expect((await call('GET', '/policy/explain?user=carol')).status).toBe(404);
  });

  it('DELETE /users/{username} deletes that user', async () => {
    expect((await call('DELETE', '/users/alice')).status).toBe(204);
    expect(await h.store.directory.getUser(alice)).toBeUndefined();
  });
});
