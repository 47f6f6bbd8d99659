import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/mfa/totp.ts';
import { launchChromium } from '../support/chromium.ts';
import { signIn, startCurfew, testSeed, type Harness } from '../support/curfew.ts';
import { ROOT } from '../support/process.ts';
import { RpReceiver } from '../support/rp-receiver.ts';

const MIN = 60_000;
const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const shots = process.env.CURFEW_SCREENSHOTS ? join(ROOT, 'docs') : join(ROOT, 'node_modules', '.cache', 'curfew-screens');

/**
 * SPEC §11 in a real browser: an admin signs in to the console with TOTP, lowers the org's idle
 * timeout, sees a user's session end and its RP receive the logout token, revokes a session,
 * and reads the audit log.
 */
describe('the admin console in Chromium', () => {
  let h: Harness;
  let rp: RpReceiver;
  beforeAll(async () => {
    rp = new RpReceiver();
    await rp.start();
    const seed = testSeed();
    (seed.orgs[0]!.users.find((u) => u.username === 'bob') as Record<string, unknown>).totpSecret = BOB_SECRET;
    (seed.orgs[0]!.clients[0] as Record<string, unknown>).backchannel_logout_uri = rp.uri('acme-app');
    h = await startCurfew('redis', { seed, config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });
    rp.trust(h.url, `${h.url}/jwks`);
    mkdirSync(shots, { recursive: true });
  });
  afterAll(async () => {
    await h?.close();
    await rp?.close();
  });

  it('lets an admin with TOTP lower the idle timeout, revoke a session and read the audit log', async () => {
    const t0 = await h.clock.now();
    const early = await signIn(h, h.userAgent(), 'acme-app', 'alice');
    await h.clock.set(t0 + 6 * MIN);
    const late = await signIn(h, h.userAgent(), 'acme-app', 'alice');

    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(5_000);
      // Destructive actions ask first; the admin confirms.
      page.on('dialog', (dialog) => void dialog.accept());
      await page.goto(`${h.url}/admin`);
      await page.getByLabel('Organization').fill('acme');
      await page.getByRole('button', { name: 'Continue' }).click();
      await page.getByLabel('Username').fill('bob');
      await page.getByLabel('Password').fill('bob password 12');
      await page.getByRole('button', { name: 'Sign in' }).click();
      // The console always asks for the authenticator.
      await page.getByLabel('Verification code').fill(await totpCode(BOB_SECRET, h.totp.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'Session policy' }).waitFor();

      // The console's session may call the JSON API too; its writes need the CSRF header.
      const csrf = await page.locator('input[name=csrf]').first().inputValue();
      const api = await page.evaluate(async (csrf) => {
        const read = await fetch('/admin/api/v1/orgs/acme/policy');
        const policy = await read.json();
        const put = (headers: Record<string, string>) =>
          fetch('/admin/api/v1/orgs/acme/policy', { method: 'PUT', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(policy) }).then((r) => r.status);
        const other = await fetch('/admin/api/v1/orgs/globex/policy');
        // The compliance API takes the same authentication (app.ts hands it requireAdminToken).
        const report = await fetch('/admin/api/v1/orgs/acme/compliance');
        const controlTestNoCsrf = await fetch('/admin/api/v1/orgs/acme/compliance/control-test', { method: 'POST' });
        return {
          read: read.status, noCsrf: await put({}), withCsrf: await put({ 'x-csrf-token': csrf }), other: other.status,
          report: report.status, controlTestNoCsrf: controlTestNoCsrf.status,
        };
      }, csrf);
      expect(api).toEqual({ read: 200, noCsrf: 403, withCsrf: 200, other: 404, report: 200, controlTestNoCsrf: 403 });

      // Live explain preview.
      await page.getByLabel('User', { exact: true }).fill('alice');
      await page.getByRole('button', { name: 'Explain' }).click();
      await page.locator('#explain-result table').filter({ hasText: 'Idle' }).waitFor();

      // The JSON view, for power users.
      await page.getByRole('link', { name: 'JSON' }).click();

      // A bad policy is refused whole, naming the field; nothing changes.
      const original = await page.getByLabel('Policy (JSON)').inputValue();
      await page.getByLabel('Policy (JSON)').fill(original.replace('"idleTimeoutSeconds": 900', '"idleTimeoutSeconds": 30'));
      await page.getByRole('button', { name: 'Save policy' }).click();
      await page.getByRole('alert').filter({ hasText: 'idleTimeoutSeconds' }).waitFor();
      expect((await h.store.directory.getOrg('acme'))!.policy.idleTimeoutSeconds).toBe(900);

      // Lower idle to 5 minutes: the session idle since t0 ends now; the later one lives on.
      await page.getByLabel('Policy (JSON)').fill(original.replace('"idleTimeoutSeconds": 900', '"idleTimeoutSeconds": 300'));
      await page.getByRole('button', { name: 'Save policy' }).click();
      await page.getByRole('status').filter({ hasText: 'Saved' }).waitFor();
      expect((await h.store.directory.getOrg('acme'))!.policy.idleTimeoutSeconds).toBe(300);
      await h.curfew.sender.tick();
      expect(rp.received.map((r) => r.payload.sid)).toEqual([early.claims.sid]);

      await page.getByRole('link', { name: 'Sessions' }).click();
      await page.getByRole('heading', { name: 'Sessions' }).waitFor();
      const rows = page.locator('tbody tr');
      const alice = rows.filter({ hasText: 'alice' });
      await expect(alice.count()).resolves.toBe(1);
      await page.screenshot({ path: join(shots, 'console-sessions.png'), fullPage: true });
      await alice.getByRole('button', { name: /Revoke/ }).click();
      await page.getByRole('heading', { name: 'Sessions' }).waitFor();
      await expect(rows.filter({ hasText: 'alice' }).count()).resolves.toBe(0);
      await h.curfew.sender.tick();
      expect(rp.received.map((r) => r.payload.sid).sort()).toEqual([early.claims.sid, late.claims.sid].sort());

      await page.getByRole('link', { name: 'Audit log' }).click();
      await page.getByRole('heading', { name: 'Audit log' }).waitFor();
      const log = await page.locator('table.audit').innerText();
      expect(log).toContain('policy.changed');
      expect(log).toContain('admin.write');
      expect(log).toContain('backchannel.delivered');
      await page.screenshot({ path: join(shots, 'console-audit.png'), fullPage: true });

      await page.getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { name: 'Users' }).waitFor();
      await page.getByLabel('Username').fill('erin');
      await page.getByLabel('Initial password').fill('erin password 1');
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.locator('tbody tr').filter({ hasText: 'erin' }).waitFor();
      await page.getByRole('status').filter({ hasText: 'The user was created.' }).waitFor();

      // Roles edited in place; a password reset asks first, then shows the new one once.
      const erin = page.locator('tbody tr').filter({ hasText: 'erin' });
      await erin.getByLabel('Roles of erin').fill('staff, ops');
      await erin.getByRole('button', { name: 'Save roles' }).click();
      await page.getByRole('status').filter({ hasText: 'The roles were saved.' }).waitFor();
      expect((await h.store.directory.findUserByName('acme', 'erin'))!.roles).toEqual(['staff', 'ops']);
      // A confirmation dismissed does nothing.
      page.removeAllListeners('dialog');
      page.once('dialog', (dialog) => void dialog.dismiss());
      const posts: string[] = [];
      const recordPost = (request: { method(): string; url(): string }) => void (request.method() === 'POST' && posts.push(request.url()));
      page.on('request', recordPost);
      await page.locator('tbody tr').filter({ hasText: 'erin' }).getByRole('button', { name: 'Delete' }).click();
      await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 100)));
      page.off('request', recordPost);
      expect(posts).toEqual([]);
      expect(await h.store.directory.findUserByName('acme', 'erin')).toBeDefined();
      page.on('dialog', (dialog) => void dialog.accept());
      await page.locator('tbody tr').filter({ hasText: 'erin' }).getByRole('button', { name: 'Reset password' }).click();
      const shown = await page.getByRole('status').filter({ hasText: 'New password, shown once' }).innerText();
      expect(shown).toMatch(/hand it to the user: \S{20}/);
      await page.screenshot({ path: join(shots, 'console-users.png'), fullPage: true });

      // Clients: a back-channel URI the API would refuse is refused here too; a good client gets
      // a secret shown once; rotating shows a new one; deleting asks first.
      await page.getByRole('link', { name: 'Clients' }).click();
      await page.getByRole('heading', { name: 'Clients' }).waitFor();
      await page.getByLabel('Client ID').fill('erin-app');
      await page.getByLabel('Redirect URIs (one per line)').fill('https://erin.example/callback');
      await page.getByLabel('Back-channel logout URI (optional)').fill('http://10.0.0.5/logout');
      await page.getByRole('button', { name: 'Register client' }).click();
      await page.getByRole('alert').filter({ hasText: 'backchannel_logout_uri' }).waitFor();
      await page.getByLabel('Client ID').fill('erin-app');
      await page.getByLabel('Redirect URIs (one per line)').fill('https://erin.example/callback');
      await page.getByLabel('Back-channel logout URI (optional)').fill('https://erin.example/logout');
      await page.getByRole('button', { name: 'Register client' }).click();
      const first = await page.locator('#client-secret').innerText();
      expect(first).toMatch(/^[A-Za-z0-9_-]{43}$/);
      await page.locator('tbody tr').filter({ hasText: 'erin-app' }).getByRole('button', { name: 'Rotate secret' }).click();
      const second = await page.locator('#client-secret').innerText();
      expect(second).not.toBe(first);
      await page.screenshot({ path: join(shots, 'console-clients.png'), fullPage: true });
      await page.goto(`${h.url}/admin/clients`);
      await expect(page.locator('#client-secret').count()).resolves.toBe(0);
      await page.locator('tbody tr').filter({ hasText: 'erin-app' }).getByRole('button', { name: 'Delete' }).click();
      await page.getByRole('status').filter({ hasText: 'The client was deleted' }).waitFor();
      expect(await h.store.directory.getClient('erin-app')).toBeUndefined();
    } finally {
      await browser.close();
    }
  });

  it('refuses a non-admin, and ends the console session with its Curfew session', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      page.setDefaultTimeout(5_000);
      await page.goto(`${h.url}/admin/login?org=acme`);
      await page.getByLabel('Username').fill('carol');
      await page.getByLabel('Password').fill('wrong org password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('alert').filter({ hasText: 'Invalid username or password.' }).waitFor();

      // Bob again, in a fresh browser: once his Curfew session idles out, the console ends too.
      const t1 = await h.clock.now();
      await page.context().clearCookies();
      await page.goto(`${h.url}/admin/login?org=acme`);
      await page.getByLabel('Username').fill('bob');
      await page.getByLabel('Password').fill('bob password 12');
      await page.getByRole('button', { name: 'Sign in' }).click();
      h.totp.advance(30_000);
      await page.getByLabel('Verification code').fill(await totpCode(BOB_SECRET, h.totp.now()));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'Session policy' }).waitFor();
      await h.clock.set(t1 + 5 * MIN);
      await page.getByRole('link', { name: 'Users' }).click();
      await page.getByRole('heading', { name: 'Admin console' }).waitFor();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Your console session has ended');
    } finally {
      await browser.close();
    }
  });
});
