import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { launchChromium } from '../../support/chromium.ts';
import { signIn, startCurfew, testSeed, type Harness } from '../../support/curfew.ts';
import { ROOT } from '../../support/process.ts';

const MIN = 60_000;

function seed() {
  const s = testSeed();
  s.orgs[0]!.policy = { ...s.orgs[0]!.policy, idleTimeoutSeconds: 900, warningSeconds: 120 } as typeof s.orgs[0]['policy'];
  return s;
}

describe('the account page', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('lists the session and its RP sessions with their deadlines', async () => {
    h = await startCurfew('memory', { seed: seed() });
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    await signIn(h, ua, 'acme-app', 'alice');
    await signIn(h, ua, 'acme-other', 'alice');
    const page = await ua.navigate(`${h.url}/account`);
    expect(page.status).toBe(200);
    expect(page.html).toContain('Signed in as <strong>alice</strong>');
    expect(page.html).toContain('acme-app');
    expect(page.html).toContain('acme-other');
    expect(page.html).toContain(`data-expires-at="${new Date(t0 + 15 * MIN).toISOString()}"`);
    expect(page.html).toContain(`data-warning-at="${new Date(t0 + 13 * MIN).toISOString()}"`);
    expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  });

  it('is activity, and "Stay signed in" moves every RP session\'s idle deadline too', async () => {
    h = await startCurfew('memory', { seed: seed() });
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    const signed = await signIn(h, ua, 'acme-app', 'alice');
    await h.clock.set(t0 + 5 * MIN);
    const page = await ua.navigate(`${h.url}/account`);
    expect(page.html).toContain(`data-expires-at="${new Date(t0 + 20 * MIN).toISOString()}"`);
    // Opening the page moved the SSO session only; the RP session still idles from t0.
    await h.clock.set(t0 + 10 * MIN);
    const stayed = await ua.submit(page, '/account/stay');
    expect(stayed.status).toBe(200);
    expect(stayed.html).toContain(`data-expires-at="${new Date(t0 + 25 * MIN).toISOString()}"`);
    const auth = `Basic ${Buffer.from('acme-app:acme-app-secret-0123456789').toString('base64')}`;
    const status = await (await fetch(`${h.url}/session/status?sid=${signed.claims.sid}`, { headers: { authorization: auth } })).json();
    expect(status).toMatchObject({ active: true, expiresAt: new Date(t0 + 25 * MIN).toISOString() });
  });

  it('refuses "Stay signed in" without the CSRF token', async () => {
    h = await startCurfew('memory', { seed: seed() });
    const ua = h.userAgent();
    await signIn(h, ua, 'acme-app', 'alice');
    const res = await ua.request(`${h.url}/account/stay`, { form: {} });
    expect(res.status).toBe(403);
  });

  it('says so when the session has ended, and when nobody is signed in', async () => {
    h = await startCurfew('memory', { seed: seed() });
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    await signIn(h, ua, 'acme-app', 'alice');
    await h.clock.set(t0 + 15 * MIN);
    expect((await ua.navigate(`${h.url}/account`)).html).toContain('Your session has ended');
    expect((await h.userAgent().navigate(`${h.url}/account`)).html).toContain('You are not signed in');
  });

  it('counts down from warningAt in a real browser', async () => {
    // Opening the page is activity, so the warning a fresh page shows is the absolute limit's.
    const s = testSeed();
    s.orgs[0]!.policy = { ...s.orgs[0]!.policy, idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 1200, warningSeconds: 120 } as typeof s.orgs[0]['policy'];
    h = await startCurfew('memory', { seed: s });
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    await signIn(h, ua, 'acme-app', 'alice');
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      await context.addCookies([...ua.cookies].map(([name, value]) => ({ name, value, url: h!.url })));
      const page = await context.newPage();
      await h.clock.set(t0 + 10 * MIN);
      await page.goto(`${h.url}/account`);
      await expect(page.locator('#countdown').textContent()).resolves.toContain('Your session ends at');

      await h.clock.set(t0 + 19 * MIN);
      await page.reload();
      await page.getByText(/Your session ends in 0:5\d|Your session ends in 1:00/).waitFor();
      const shots = process.env.CURFEW_SCREENSHOTS ? join(ROOT, 'docs') : join(ROOT, 'node_modules', '.cache', 'curfew-screens');
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, 'account.png') });
      await expect(page.getByRole('button', { name: 'Stay signed in' }).isVisible()).resolves.toBe(true);

      await h.clock.set(t0 + 20 * MIN);
      await page.reload();
      await page.getByRole('heading', { name: 'Your session has ended' }).waitFor();
    } finally {
      await browser.close();
    }
  });
});
