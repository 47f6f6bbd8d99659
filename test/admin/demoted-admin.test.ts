import * as oidc from 'openid-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/mfa/totp.ts';
import { parseSeed } from '../../src/provisioning/seed.ts';
import { PASSWORDS, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';
import type { UserAgent } from '../support/user-agent.ts';

const API = '/admin/api/v1';
const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

function seed(bobRoles: string[] = ['admin']) {
  const s = testSeed();
  const bob = s.orgs[0]!.users.find((u) => u.username === 'bob') as Record<string, unknown>;
  bob.totpSecret = BOB_SECRET;
  bob.roles = bobRoles;
  return s;
}

/**
 * Issue 10 item 2: the console's authority is the user's, re-read at every request. A user who
 * lost the admin role (or was disabled) after signing in to the console can read and write
 * nothing more with the cookie they hold, and their console sessions end.
 */
describe.each(STORE_KINDS)('a demoted admin and the console (%s store)', (kind) => {
  let h: Harness;
  let token: string;
  beforeEach(async () => {
    h = await startCurfew(kind, { seed: seed() });
    token = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
  });
  afterEach(async () => {
    await h?.close();
  });

  /** Bob signs in to the console (password, then TOTP); returns his browser and the console's CSRF token. */
  async function consoleSignIn(): Promise<{ ua: UserAgent; csrf: string; bob: string }> {
    const ua = h.userAgent();
    let page = await ua.navigate(`${h.url}/admin/login?org=acme`);
    page = await ua.submit(page, '/login', { username: 'bob', password: PASSWORDS.bob });
    page = await ua.submit(page, '/totp', { code: await totpCode(BOB_SECRET, h.totp.now()) });
    expect(new URL(page.url).pathname).toBe('/admin/policy');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1];
    if (!csrf) throw new Error('no CSRF token on the console page');
    return { ua, csrf, bob: (await h.store.directory.findUserByName('acme', 'bob'))!.id };
  }

  const withCookie = async (ua: UserAgent, csrf: string, method: string, path: string, body?: unknown) => {
    const res = await fetch(`${h.url}${API}${path}`, {
      method,
      headers: {
        cookie: [...ua.cookies].map(([k, v]) => `${k}=${v}`).join('; '),
        'x-csrf-token': csrf,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.text()) as string };
  };
  const withToken = (method: string, path: string, body: unknown) =>
    fetch(`${h.url}${API}${path}`, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const newAdmin = { username: 'mallory', password: 'mallory password 1', roles: ['admin'] };

  it('refuses the next API write and console page once the admin role is removed, and ends the console session', async () => {
    const { ua, csrf, bob } = await consoleSignIn();
    // While an admin, the cookie works for both.
    expect((await withCookie(ua, csrf, 'GET', '/orgs/acme/users')).status).toBe(200);
    expect((await ua.request('/admin/users')).status).toBe(200);

    expect((await withToken('PATCH', `/orgs/acme/users/${bob}`, { roles: ['staff'] })).status).toBe(200);

    // The old cookie cannot create an admin, read, or open a console page.
    const created = await withCookie(ua, csrf, 'POST', '/orgs/acme/users', newAdmin);
    expect(created.status).toBe(403);
    expect(created.body).toContain('no longer an admin');
    expect((await withCookie(ua, csrf, 'GET', '/orgs/acme/users')).status).toBe(403);
    expect(await h.store.directory.findUserByName('acme', 'mallory')).toBeUndefined();
    const page = await ua.request('/admin/users');
    expect(page.status).toBe(302);
    expect(page.headers.get('location')).toBe('/admin?ended=1');

    // The console's RP session ended as an admin act, and the console was told like any app.
    const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 5 })).items;
    expect(ended.find((e) => e.client === 'curfew-console-acme')?.data).toMatchObject({ reason: 'admin', scope: 'rp' });
    await h.curfew.sender.tick();
    const delivered = (await h.store.audit.query({ org: 'acme', type: 'backchannel.delivered', limit: 5 })).items;
    expect(delivered.map((e) => e.client)).toContain('curfew-console-acme');
  });

  it('refuses a console form post that would create an admin, once the role is gone', async () => {
    const { ua, csrf, bob } = await consoleSignIn();
    expect((await withToken('PATCH', `/orgs/acme/users/${bob}`, { roles: [] })).status).toBe(200);
    const res = await ua.request('/admin/users', { form: { csrf, username: 'mallory', password: newAdmin.password, roles: 'admin' } });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/admin?ended=1');
    expect(await h.store.directory.findUserByName('acme', 'mallory')).toBeUndefined();
  });

  it.each([
    ['the admin role removed', { roles: ['staff'] }],
    ['disabled', { disabled: true }],
  ])('re-reads the user on every request: a user %s in the directory alone is refused', async (_what, change) => {
    const { ua, csrf, bob } = await consoleSignIn();
    const user = (await h.store.directory.getUser(bob))!;
    // Not through the API: nothing ended any session, only the directory changed.
    await h.store.directory.putUser({ ...user, ...change });
    expect((await withCookie(ua, csrf, 'POST', '/orgs/acme/users', newAdmin)).status).toBe(403);
    expect(await h.store.directory.findUserByName('acme', 'mallory')).toBeUndefined();
    expect((await ua.request('/admin/policy')).status).toBe(302);
  });

  it('refuses a disabled admin\'s cookie', async () => {
    const { ua, csrf, bob } = await consoleSignIn();
    expect((await withToken('PATCH', `/orgs/acme/users/${bob}`, { disabled: true })).status).toBe(200);
    expect([401, 403]).toContain((await withCookie(ua, csrf, 'POST', '/orgs/acme/users', newAdmin)).status);
    expect(await h.store.directory.findUserByName('acme', 'mallory')).toBeUndefined();
    expect((await ua.request('/admin/policy')).status).toBe(302);
  });

  it('ends the console session when a seed reload takes the admin role away', async () => {
    const { ua, csrf } = await consoleSignIn();
    await h.curfew.applySeed(parseSeed(seed(['staff']), '(test seed)', h.config.backchannel.allowlist));
    const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 5 })).items;
    expect(ended.find((e) => e.client === 'curfew-console-acme')?.data).toMatchObject({ reason: 'admin' });
    expect((await withCookie(ua, csrf, 'GET', '/orgs/acme/policy')).status).toBe(403);
  });
});
