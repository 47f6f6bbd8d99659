import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curfewActivity } from '../../examples/express/curfew-activity.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import { PASSWORDS, startCurfew, testSeed, type Harness } from '../support/curfew.ts';
import { freePort } from '../support/process.ts';
import type { UserAgent } from '../support/user-agent.ts';
import { until } from '../support/wait.ts';
import { memorySessionStore } from '../support/express-store.ts';

// express and express-openid-connect are CommonJS: load them the way an RP app would.
const require = createRequire(import.meta.url);
const express = require('express') as typeof import('express');
const { auth } = require('express-openid-connect') as { auth: (config: Record<string, unknown>) => import('express').RequestHandler };

const S = 1000;
const SECRET = 'eoc-activity-secret-0123456789';
const TOTP = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/**
 * The express-openid-connect recipe: the README's middleware, verbatim from examples/express,
 * in a real express-openid-connect app. Its user's requests are activity; its own background
 * refresh is not; when its user stops, the back-channel logout comes at the deadline.
 */
describe('recipe: express-openid-connect with the activity middleware', () => {
  let h: Harness;
  let server: Server;
  let rpUrl: string;
  let ua: UserAgent;
  let testNow = 0;

  beforeAll(async () => {
    const port = await freePort();
    rpUrl = `http://127.0.0.1:${port}`;
    const seed = testSeed();
    const org = seed.orgs[0]!;
    org.policy = { idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 3600, warningSeconds: 20, mfa: 'reentry' } as typeof org.policy;
    (org.users.find((u) => u.username === 'alice') as Record<string, unknown>).totpSecret = TOTP;
    org.clients.push({
      client_id: 'eoc-app', client_secret: SECRET, redirect_uris: [`${rpUrl}/callback`], post_logout_redirect_uris: [rpUrl],
      backchannel_logout_uri: `${rpUrl}/backchannel-logout`,
    } as never);
    h = await startCurfew('redis', { seed, config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });
    testNow = await h.clock.now();

    const app = express();
    app.use(auth({
      issuerBaseURL: h.url, baseURL: rpUrl, clientID: 'eoc-app', clientSecret: SECRET,
      secret: 'a-long-random-cookie-secret-for-the-test-rp-0123456789', authRequired: false, idpLogout: false,
      authorizationParams: { response_type: 'code', response_mode: 'query', scope: 'openid profile' },
      backchannelLogout: { store: memorySessionStore() },
    }));
    // A background job of the app, mounted before the middleware: not the user's doing.
    app.post('/jobs/refresh', async (req, res) => {
      const oidc = (req as unknown as { oidc: { accessToken?: { access_token: string; refresh(): Promise<{ access_token: string }> }; refreshToken?: string } }).oidc;
      if (!oidc.accessToken || !oidc.refreshToken) {
        res.status(409).json({ refreshed: false });
        return;
      }
      const before = oidc.accessToken.access_token;
      const after = await oidc.accessToken.refresh();
      res.json({ refreshed: after.access_token !== before });
    });
    // The recipe: every request of the signed-in user below this line is activity, throttled per sid.
    app.use(curfewActivity({ issuer: h.url, clientId: 'eoc-app', clientSecret: SECRET, intervalSeconds: 5, now: () => testNow }));
    app.get('/me', (req, res) => {
      const oidc = (req as unknown as { oidc: { isAuthenticated(): boolean } }).oidc;
      res.json({ authenticated: oidc.isAuthenticated() });
    });
    server = createServer(app);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await h?.close();
  });

  const at = async (ms: number) => {
    testNow = ms;
    await h.clock.set(ms);
  };
  const session = async () => (await h.curfew.sessions.list('acme')).find((s) => s.rps['eoc-app']);
  const rpActiveAt = async () => (await session())?.rps['eoc-app']?.lastActiveAt;
  const me = async () => (JSON.parse((await ua.request(`${rpUrl}/me`)).html) as { authenticated: boolean }).authenticated;

  async function signInThroughApp(withCode: boolean) {
    const start = await ua.request(`${rpUrl}/login`);
    const login = await ua.navigate(start.headers.get('location')!);
    let back = await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(/action="[^"]*\/totp"/.test(back.html), 'asked for a TOTP code').toBe(withCode);
    if (withCode) {
      h.totp.advance(30_000);
      back = await ua.submit(back, '/totp', { code: await totpCode(TOTP, h.totp.now()) });
    }
    expect(back.leftTo).toMatch(new RegExp(`^${rpUrl}/callback\\?`));
    expect((await ua.request(back.leftTo!)).status).toBe(302);
    expect(await me()).toBe(true);
  }

  it('keeps a user who uses the app every few seconds signed in past the idle limit, one report per interval', async () => {
    ua = h.userAgent();
    await signInThroughApp(false);
    const start = (await rpActiveAt())!;
    for (let t = 5; t <= 90; t += 5) {
      await at(start + t * S);
      await h.curfew.sweeper.tick();
      expect(await me()).toBe(true);
      await until(`activity at +${t}s`, async () => (await rpActiveAt()) === start + t * S);
    }
    // A report moves lastActiveAt and then counts itself: wait until the count has settled.
    const count = async () => (await session())!.activity?.rp_report?.count ?? 0;
    let seen = -1;
    const reports = await until('the reports to be counted', async () => {
      const now = await count();
      if (now === seen) return { now };
      seen = now;
      return false;
    }, 5_000, 300).then((r) => r.now);
    await Promise.all([me(), me(), me()]);
    await at(start + 92 * S);
    await me();
    await new Promise((r) => setTimeout(r, 200));
    expect((await session())!.activity?.rp_report?.count).toBe(reports);
    expect(await rpActiveAt()).toBe(start + 90 * S);
  });

  it('does not count the app\'s background refresh as activity', async () => {
    const last = (await rpActiveAt())!;
    await at(last + 30 * S);
    const res = await ua.request(`${rpUrl}/jobs/refresh`, { method: 'POST' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.html)).toEqual({ refreshed: true });
    expect(await rpActiveAt()).toBe(last);
  });

  it('sends the back-channel logout at the deadline when the user stops, and asks for TOTP at re-entry', async () => {
    const last = (await rpActiveAt())!;
    await at(last + 60 * S - 1);
    await h.curfew.sweeper.tick();
    expect((await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 1 })).items).toHaveLength(0);
    await at(last + 60 * S);
    await h.curfew.sweeper.tick();
    await h.curfew.sender.tick();
    const delivered = (await h.store.audit.query({ org: 'acme', type: 'backchannel.delivered', limit: 1 })).items[0];
    expect(delivered).toMatchObject({ client: 'eoc-app' });
    const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 1 })).items[0]!;
    expect(ended.data).toMatchObject({ reason: 'idle', lateMs: 0, lastActiveAt: new Date(last).toISOString() });
    expect(await me()).toBe(false);
    await signInThroughApp(true);
  });
});
