import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/mfa/totp.ts';
import { freePort, startMain, type Started } from '../support/process.ts';
import { UserAgent } from '../support/user-agent.ts';

interface Logouts {
  logouts: Array<{ receivedAt: string; alg: string; claims: { sid: string; sub: string; aud: string; iss: string; events: Record<string, unknown> } }>;
}

/**
 * Issue 12 item 5: the first run teaches the product. `npm start` prints an admin API client
 * beside the demo users; the demo app receives the back-channel logout token of a session an
 * admin ended, and shows it.
 */
describe('the embedded default teaches a session end reaching an app', () => {
  let app: Started;
  let base: string;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    app = await startMain({ PORT: String(port), ISSUER: base, LOG_LEVEL: 'warn' }, /Admin API:[\s\S]*curl/);
  });
  afterAll(async () => {
    await app?.stop();
  });

  const logouts = async () => (await (await fetch(`${base}/demo/logouts`, { headers: { accept: 'application/json' } })).json()) as Logouts;

  it('prints an admin API client whose secret gets an admin token', async () => {
    const [, clientId, secret] = /Admin API: client (\S+) \/ (\S+)/.exec(app.output()) ?? [];
    expect(clientId).toBe('acme-admin-api');
    const res = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${secret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=admin',
    });
    expect(res.status).toBe(200);
    const { access_token } = (await res.json()) as { access_token: string };
    const policy = await fetch(`${base}/admin/api/v1/orgs/acme/policy`, { headers: { authorization: `Bearer ${access_token}` } });
    expect(policy.status).toBe(200);
  });

  it('shows the logout token of a session an admin revoked, verified, within seconds', async () => {
    expect((await logouts()).logouts).toEqual([]);
    // Alice signs in to the demo app (first sign-in: she sets up her authenticator).
    const ua = new UserAgent(base);
    let page = await ua.navigate(`${base}/demo`);
    const password = /alice \/ (.+)/.exec(app.output())![1]!.trim();
    page = await ua.submit(page, '/login', { username: 'alice', password });
    const secret = /id="secret">([^<]+)</.exec(page.html)?.[1]?.replace(/\s/g, '');
    if (!secret) throw new Error(`no enrollment page: ${page.html.slice(0, 300)}`);
    page = await ua.submit(page, '', { code: await totpCode(secret, Date.now()) });
    page = await ua.submit(page, '');
    expect(page.html).toContain('Signed in');
    const sid = /<th>sid<\/th><td><code>([^<]+)</.exec(page.html)?.[1];
    expect(sid).toBeTruthy();

    // The admin, with the printed client, ends alice's sessions.
    const [, clientId, clientSecret] = /Admin API: client (\S+) \/ (\S+)/.exec(app.output()) ?? [];
    const tokenRes = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=client_credentials&scope=admin',
    });
    const { access_token } = (await tokenRes.json()) as { access_token: string };
    const revoke = await fetch(`${base}/admin/api/v1/orgs/acme/users/alice/sessions`, { method: 'DELETE', headers: { authorization: `Bearer ${access_token}` } });
    expect(await revoke.json()).toEqual({ ended: 1 });

    const deadline = Date.now() + 20_000;
    let got = await logouts();
    while (got.logouts.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      got = await logouts();
    }
    expect(got.logouts).toHaveLength(1);
    expect(got.logouts[0]!.claims).toMatchObject({ sid, aud: 'demo-app', iss: base, events: { 'http://schemas.openid.net/event/backchannel-logout': {} } });
    const html = await (await fetch(`${base}/demo/logouts`)).text();
    expect(html).toContain(sid);
  });

  it('refuses a logout token it cannot verify, and shows nothing of it', async () => {
    const before = (await logouts()).logouts.length;
    const forged = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'logout+jwt' })).toString('base64url')}.${Buffer.from(JSON.stringify({ sid: 'x', iss: base, aud: 'demo-app' })).toString('base64url')}.`;
    const res = await fetch(`${base}/demo/backchannel-logout`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `logout_token=${forged}` });
    expect(res.status).toBe(400);
    expect((await logouts()).logouts).toHaveLength(before);
  });
});
