import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startCurfew, type Harness, type SignIn } from '../../support/curfew.ts';

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe('/session/status and /session/activity: client authentication and errors', () => {
  let h: Harness;
  let signed: SignIn;
  beforeAll(async () => {
    h = await startCurfew('memory');
    signed = await signIn(h, h.userAgent(), 'acme-app', 'alice');
  });
  afterAll(async () => {
    await h?.close();
  });
  const status = (init: RequestInit & { query?: string } = {}) => fetch(`${h.url}/session/status${init.query ?? ''}`, init);

  it('refuses a request without client authentication, or with a wrong secret, with 401 invalid_client', async () => {
    for (const res of [
      await status({ query: `?sid=${signed.claims.sid}` }),
      await status({ query: `?sid=${signed.claims.sid}`, headers: { authorization: basic('acme-app', 'wrong') } }),
      await status({ query: `?sid=${signed.claims.sid}&client_id=acme-app&client_secret=acme-app-secret-0123456789` }),
    ]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('invalid_client');
      expect(await res.json()).toMatchObject({ error: 'invalid_client' });
    }
  });

  it('accepts client_secret_post in the body', async () => {
    const res = await fetch(`${h.url}/session/status`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'acme-app', client_secret: 'acme-app-secret-0123456789', sid: signed.claims.sid as string }),
    });
    expect(await res.json()).toMatchObject({ active: true });
  });

  it('answers 400 without a sid, and {active:false} for another client\'s sid or an unknown one', async () => {
    const res = await status({ headers: { authorization: basic('acme-app', 'acme-app-secret-0123456789') } });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request' });
    const other = await status({ query: `?sid=${signed.claims.sid}`, headers: { authorization: basic('acme-other', 'acme-other-secret-0123456789') } });
    expect(await other.json()).toEqual({ active: false });
    const unknown = await status({ query: '?sid=nope', headers: { authorization: basic('acme-app', 'acme-app-secret-0123456789') } });
    expect(await unknown.json()).toEqual({ active: false });
  });

  it('answers GET /session/activity with 405: activity is a POST', async () => {
    const res = await fetch(`${h.url}/session/activity?sid=x`, { headers: { authorization: basic('acme-app', 'acme-app-secret-0123456789') } });
    expect(res.status).toBe(405);
  });
});
