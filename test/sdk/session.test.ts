import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/mfa/totp.ts';
import type { SsoSession } from '../../src/sessions/types.ts';
import { launchChromium } from '../support/chromium.ts';
import { PASSWORDS, startCurfew, testSeed, type Harness } from '../support/curfew.ts';
import { freePort } from '../support/process.ts';
import { until } from '../support/wait.ts';

const S = 1000;
const SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const EXAMPLE = new URL('../../examples/spa/', import.meta.url);

/**
 * The single-page-app recipe in real Chromium: the example app of examples/spa signs in with
 * the code flow and PKCE, and Curfew's /sdk/session.js (served by Curfew, under a strict CSP)
 * reports the user's input with the access token, warns, and ends the page.
 */
describe('/sdk/session.js in a single-page app (Chromium)', () => {
  let h: Harness;
  let server: Server;
  let spa: string;
  let browser: Browser;
  let page: Page;
  const logoutTokens: string[] = [];
  const violations: string[] = [];

  beforeAll(async () => {
    const port = await freePort();
    spa = `http://127.0.0.1:${port}`;
    const seed = testSeed();
    const org = seed.orgs[0]!;
    org.policy = { idleTimeoutSeconds: 60, absoluteTimeoutSeconds: 3600, warningSeconds: 20, mfa: 'reentry' } as typeof org.policy;
    (org.users.find((u) => u.username === 'alice') as Record<string, unknown>).totpSecret = SECRET;
    org.clients.push({ client_id: 'spa', redirect_uris: [`${spa}/`], post_logout_redirect_uris: [`${spa}/`], backchannel_logout_uri: `${spa}/backchannel` } as never);
    h = await startCurfew('redis', { seed, config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });

    const html = readFileSync(new URL('index.html', EXAMPLE), 'utf8')
      .replaceAll('https://curfew.example', h.url)
      .replace('data-interval="30" data-poll="60"', 'data-interval="0.5" data-poll="0.5"');
    const app = readFileSync(new URL('app.js', EXAMPLE));
    server = createServer((req, res) => {
      if (req.method === 'POST' && req.url === '/backchannel') {
        let body = '';
        req.on('data', (c) => (body += c));
        req.on('end', () => {
          logoutTokens.push(new URLSearchParams(body).get('logout_token') ?? '');
          res.writeHead(200).end();
        });
        return;
      }
      if (req.url === '/app.js') {
        res.writeHead(200, { 'content-type': 'text/javascript' }).end(app);
        return;
      }
      // A strict policy: scripts and connections only to the app and Curfew, no inline anything.
      res.writeHead(200, {
        'content-type': 'text/html; charset=utf-8',
        'content-security-policy': `default-src 'self'; script-src 'self' ${h.url}; connect-src 'self' ${h.url}; style-src 'self'`,
      }).end(html);
    });
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', () => r()));
    browser = await launchChromium();
    page = await browser.newPage();
    await page.exposeFunction('reportViolation', (v: string) => violations.push(v));
    // Injected by the browser's devtools protocol, so the page's CSP does not apply to it.
    await page.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => window.reportViolation(e.violatedDirective + ' ' + e.blockedURI));" });
  });
  afterAll(async () => {
    await browser?.close();
    server?.closeAllConnections();
    await new Promise((r) => server?.close(r));
    await h?.close();
  });

  const session = async (): Promise<SsoSession | undefined> => (await h.curfew.sessions.list('acme')).find((s) => s.rps.spa?.endedAt === undefined && s.rps.spa);
  const rpActiveAt = async () => (await session())?.rps.spa?.lastActiveAt;
  const reports = async () => (await session())?.activity?.bearer?.count ?? 0;
  const dialog = () => page.getByRole('alertdialog', { name: 'Your session is about to end' });

  it('serves the script as cacheable JavaScript', async () => {
    const res = await fetch(`${h.url}/sdk/session.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toMatch(/max-age=\d+/);
    const etag = res.headers.get('etag')!;
    const body = await res.text();
    expect(body).not.toMatch(/\beval\(|new Function|setAttribute\('style'|\.style\./);
    expect((await fetch(`${h.url}/sdk/session.js`, { headers: { 'if-none-match': etag } })).status).toBe(304);
  });

  it('signs in through the SPA (code flow with PKCE in the browser)', async () => {
    await page.goto(`${spa}/`);
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORDS.alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in').waitFor();
    await until('the first status poll', async () => page.evaluate<boolean>('CurfewSession.status()?.active === true'));
  });

  it('reports input as activity (lastActiveAt moves), at most once per interval', async () => {
    const t0 = await h.clock.now();
    await h.clock.set(t0 + 10 * S);
    await page.locator('#notes').click();
    await until('activity at t0+10s', async () => (await rpActiveAt()) === t0 + 10 * S);
    await new Promise((r) => setTimeout(r, 600));
    const before = await reports();
    for (let i = 0; i < 10; i++) await page.keyboard.press('a');
    await new Promise((r) => setTimeout(r, 1200));
    const sent = (await reports()) - before;
    // One at once, one at the end of the interval for the rest: never one per key.
    expect(sent).toBeGreaterThanOrEqual(1);
    expect(sent).toBeLessThanOrEqual(2);
  });

  it('shows an accessible warning inside the window, with a live countdown; "Stay signed in" extends', async () => {
    const last = (await rpActiveAt())!;
    // (The test clock stands still between moves; the script tolerates 2 s of drift before re-syncing.)
    await h.clock.set(last + 36 * S);
    await new Promise((r) => setTimeout(r, 1200));
    expect(await dialog().isVisible()).toBe(false);
    await h.clock.set(last + 41 * S);
    await dialog().waitFor({ timeout: 3000 });
    expect(await dialog().getAttribute('aria-live')).toBeTruthy();
    const first = await page.locator('.curfew-session-countdown').innerText();
    expect(first).toMatch(/^0:(19|18)$/);
    await until('the countdown to tick', async () => (await page.locator('.curfew-session-countdown').innerText()) !== first, 3000);
    expect((await h.store.audit.query({ org: 'acme', type: 'session.warned', limit: 5 })).items.length).toBeGreaterThanOrEqual(1);
    await h.clock.set(last + 45 * S);
    await page.getByRole('button', { name: 'Stay signed in' }).click();
    await until('the extended session', async () => (await rpActiveAt()) === last + 45 * S);
    await dialog().waitFor({ state: 'hidden', timeout: 3000 });
    expect(violations).toEqual([]);
  });

  it('keeps a user active every few seconds signed in past the idle limit; a background refresh alone extends nothing', async () => {
    const start = (await rpActiveAt())!;
    for (let t = 5; t <= 90; t += 5) {
      await h.clock.set(start + t * S);
      await h.curfew.sweeper.tick();
      await page.keyboard.press('b');
      await until(`activity at +${t}s`, async () => (await rpActiveAt()) === start + t * S);
    }
    expect(logoutTokens).toEqual([]);
    const last = (await rpActiveAt())!;
    await h.clock.set(last + 30 * S);
    await page.evaluate('exampleApp.refresh().then(() => true)');
    expect(await rpActiveAt()).toBe(last);
  });

  it('a user who stops gets the back-channel logout at the deadline, the page goes to sign-in, and TOTP is asked at re-entry', async () => {
    const last = (await rpActiveAt())!;
    const sid = (await session())!.rps.spa!.sid;
    await h.clock.set(last + 60 * S);
    // The sweeper, or the page's own poll at the deadline (whichever comes first), ends it.
    await h.curfew.sweeper.tick();
    await until('the logout token', async () => {
      await h.curfew.sender.tick();
      return logoutTokens.length > 0;
    });
    expect(logoutTokens).toHaveLength(1);
    const claims = JSON.parse(Buffer.from(logoutTokens[0]!.split('.')[1]!, 'base64url').toString()) as { sid: string };
    expect(claims.sid).toBe(sid);
    const ended = await until('session.ended', async () => (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 1 })).items[0]);
    expect(ended!.data).toMatchObject({ reason: 'idle', lastActiveAt: new Date(last).toISOString() });
    expect(ended!.data!.lateMs as number).toBeLessThan(1000);

    // session.js sees the end and sends the user to the app's sign-in: password, then TOTP.
    await page.getByLabel('Username').waitFor({ timeout: 5000 }).catch(async (err: unknown) => {
      throw new Error(`${String(err)} at ${page.url()}: ${(await page.content()).slice(0, 1500)}`);
    });
    await page.getByLabel('Username').fill('alice');
    await page.getByLabel('Password').fill(PASSWORDS.alice);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Enter your code' }).waitFor();
    await page.getByLabel('Verification code').fill(await totpCode(SECRET, h.totp.now()));
    await page.getByRole('button', { name: /verify|continue|sign in/i }).click();
    await page.getByText('Signed in').waitFor();
  });
});
