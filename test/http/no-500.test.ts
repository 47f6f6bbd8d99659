import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCurfew, type Harness } from '../support/curfew.ts';

/** "The server never answers 500 to a client's mistake": junk at every route Curfew adds. */
describe('client mistakes never get a 500', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew('memory');
  });
  afterAll(async () => {
    await h?.close();
  });

  const junk: Array<[string, string, RequestInit?]> = [
    ['GET', '/interaction/%E0%A4%A'],
    ['POST', '/interaction/x/login', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'username=%ZZ&password' }],
    ['POST', '/interaction/x/totp', { headers: { 'content-type': 'application/json' }, body: '{' }],
    ['POST', '/interaction/x/enroll', { headers: { 'content-type': 'text/plain' }, body: 'code=1' }],
    ['GET', '/session/status?sid[]=a&sid[]=b', { headers: { authorization: 'Basic !!!' } }],
    ['POST', '/session/activity', { headers: { authorization: 'Basic ' + Buffer.from('nocolon').toString('base64') } }],
    ['POST', '/session/activity', { headers: { 'content-type': 'application/json', authorization: 'Basic ' + Buffer.from('acme-app:acme-app-secret-0123456789').toString('base64') }, body: '{"sid": {"$gt": ""}}' }],
    ['GET', '/account'],
    ['POST', '/account/stay', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'csrf=' }],
    ['GET', '/admin/login?org[]=x'],
    ['GET', '/admin/callback?code=x&state=y'],
    ['GET', '/admin/callback?error=access_denied'],
    ['POST', '/admin/backchannel-logout', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'logout_token=not.a.jwt' }],
    ['GET', '/admin/policy'],
    ['GET', '/admin/explain?user=alice'],
    ['GET', '/admin/api/v1/orgs/acme/audit?cursor=%%%'],
    ['PUT', '/admin/api/v1/orgs/acme/policy', { headers: { 'content-type': 'application/json', authorization: 'Bearer x' }, body: 'null' }],
    ['GET', '/admin/api/v1/orgs/../../etc/passwd'],
    ['GET', '/static/..%2fpackage.json'],
    ['GET', '/static/curfew.css%00'],
    ['POST', '/token', { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=refresh_token&refresh_token=' + 'a'.repeat(5000) }],
    ['GET', '/auth?client_id=acme-app&response_type=code&redirect_uri=' + encodeURIComponent('javascript:alert(1)')],
    ['GET', '/session/end?id_token_hint=garbage'],
    ['GET', '/me', { headers: { authorization: 'Bearer ' + 'x'.repeat(10_000) } }],
  ];

  it.each(junk)('%s %s', async (method, path, init) => {
    const res = await fetch(`${h.url}${path}`, { method, redirect: 'manual', ...init });
    expect(res.status, await res.text().then((t) => t.slice(0, 200))).toBeLessThan(500);
  });

  it('a bad audit cursor is a 400 with a clear error', async () => {
    const oidc = await import('openid-client');
    const token = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
    const res = await fetch(`${h.url}/admin/api/v1/orgs/acme/audit?cursor=bm90LWEtY3Vyc29y`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(400);
  });
});
