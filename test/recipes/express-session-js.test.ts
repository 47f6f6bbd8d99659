import { createServer, type Server } from 'node:http';
import { createRequire } from 'node:module';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { curfewActivity, curfewSessionRelay } from '../../examples/express/curfew-activity.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import { launchChromium } from '../support/chromium.ts';
import { PASSWORDS, startCurfew, testSeed, type Harness } from '../support/curfew.ts';
import { freePort } from '../support/process.ts';
import { until } from '../support/wait.ts';
import { memorySessionStore } from '../support/express-store.ts';

const require = createRequire(import.meta.url);
const express = require('express') as typeof import('express');
const { auth, requiresAuth } = require('express-openid-connect') as {
  auth: (config: Record<string, unknown>) => import('express').RequestHandler;
  requiresAuth: () => import('express').RequestHandler;
};

const S = 1000;
const SECRET = 'eoc-sdk-secret-0123456789';
const TOTP = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/**
 * /sdk/session.js in a server-rendered express-openid-connect app, through the app's own
 * same-origin endpoints (data-status-url, data-activity-url): no token in the browser.
 */
describe('recipe: /sdk/session.js through an express app\'s same-origin relay (Chromium)', () => {
  let h: Harness;
  let server: Server;
  let rpUrl: string;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    const port = await freePort();
    rpUrl = `http://127.0.0.1:${port}`;
    const seed = testSeed();
    const org = seed.orgs[0]!;
    org.policy = { idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 3600, warningSeconds: 20, mfa: 'reentry' } as typeof org.policy;
    (org.users.find((u) => u.username === 'alice') as Record<string, unknown>).totpSecret = TOTP;
    org.clients.push({
      client_id: 'eoc-sdk', client_secret: SECRET, redirect_uris: [`${rpUrl}/callback`], post_logout_redirect_uris: [rpUrl],
      backchannel_logout_uri: `${rpUrl}/backchannel-logout`,
    } as never);
    h = await startCurfew('redis', { seed, config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });

    const app = express();
    app.use(auth({
      issuerBaseURL: h.url, baseURL: rpUrl, clientID: 'eoc-sdk', clientSecret: SECRET,
      secret: 'a-long-random-cookie-secret-for-the-test-rp-0123456789', authRequired: false, idpLogout: false,
      authorizationParams: { response_type: 'code', response_mode: 'query', scope: 'openid' },
      backchannelLogout: { store: memorySessionStore() },
    }));
    const relay = curfewSessionRelay({ issuer: h.url, clientId: 'eoc-sdk', clientSecret: SECRET });
    app.get('/curfew/status', relay.status);
    app.post('/curfew/activity', relay.activity);
    app.use(curfewActivity({ issuer: h.url, clientId: 'eoc-sdk', clientSecret: SECRET }));
    app.get('/', requiresAuth(), (_req, res) => {
      res.set('Content-Security-Policy', `default-src 'self'; script-src ${h.url}; connect-src 'self'; style-src 'self'`);
      res.type('html').send(`<!doctype html><html lang="en"><title>App</title><main><h1>Inside the app</h1><textarea aria-label="Notes"></textarea></main>
<script src="${h.url}/sdk/session.js" data-status-url="/curfew/status" data-activity-url="/curfew/activity" data-signin-url="/login" data-interval="0.5" data-poll="0.5" defer></script></html>`);
    });
    server = createServer(app);
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    browser = await launchChromium();
    page = await browser.newPage();
    page.setDefaultTimeout(5_000);
  });
  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await h?.close();
  });

  const session = async () => (await h.curfew.sessions.list('acme')).find((s) => s.rps['eoc-sdk'] && s.rps['eoc-sdk'].endedAt === undefined);
  const rpActiveAt = async () => (await session())?.rps['eoc-sdk']?.lastActiveAt;

  async function signIn(withCode: boolean) {
    await page.goto(`${rpUrl}/`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORDS.alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    if (withCode) {
      await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
      h.totp.advance(30_000);
      await page.getByLabel('Verification code').fill(await totpCode(TOTP, h.totp.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
    }
    await page.getByRole('heading', { name: 'Inside the app' }).waitFor();
    await until('the first status poll', async () => page.evaluate<boolean>('CurfewSession.status()?.active === true'));
  }

  it('reports the user\'s input through the app, and sends the user to sign in (TOTP) when the session ends', async () => {
    await signIn(false);
    const t0 = (await rpActiveAt())!;
    await h.clock.set(t0 + 10 * S);
    await new Promise((r) => setTimeout(r, 600));
    await page.getByLabel('Notes').press('a');
    await until('activity at +10s', async () => (await rpActiveAt()) === t0 + 10 * S);
    expect((await session())!.activity?.rp_report?.count).toBeGreaterThanOrEqual(1);

    // Status polls through the relay are passive.
    await h.clock.set(t0 + 30 * S);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await rpActiveAt()).toBe(t0 + 10 * S);

    // The user stops: at the deadline the app's session is gone and the script leaves for sign-in.
    await h.clock.set(t0 + 70 * S);
    await h.curfew.sweeper.tick();
    await until('the logout token', async () => {
      await h.curfew.sender.tick();
      return (await h.store.audit.query({ org: 'acme', type: 'backchannel.delivered', limit: 1 })).items[0];
    });
    // The script went to data-signin-url (the app's /login), which went to Curfew's sign-in.
    await page.getByLabel('Username').waitFor();
    expect(page.url().startsWith(`${h.url}/`)).toBe(true);
    await signIn(true);
  });
});
