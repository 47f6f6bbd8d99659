import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/mfa/totp.ts';
import { launchChromium } from '../support/chromium.ts';
import { freePort, ROOT, runMain, startMain, type Started } from '../support/process.ts';

/**
 * `npm start` on a new machine: no REDIS_URL, so the embedded store with the demo seed; a
 * person signs in to the demo app in a real browser.
 */
describe('npm start on the embedded default', () => {
  let app: Started;
  let base: string;
  beforeAll(async () => {
    const port = await freePort();
    base = `http://localhost:${port}`;
    app = await startMain({ PORT: String(port), ISSUER: base, LOG_LEVEL: 'warn' }, /Sign in:/);
  });
  afterAll(async () => {
    await app?.stop();
  });

  it('prints how to sign in', () => {
    expect(app.output()).toContain(`${base}/.well-known/openid-configuration`);
    expect(app.output()).toMatch(/alice \/ \S+/);
  });

  it('serves discovery', async () => {
    const meta = (await (await fetch(`${base}/.well-known/openid-configuration`)).json()) as { issuer: string };
    expect(meta.issuer).toBe(base);
  });

  it('lets a person sign in as the demo user in Chromium', async () => {
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/demo`);
      await page.getByLabel('Username').waitFor();
      const shots = process.env.CURFEW_SCREENSHOTS ? join(ROOT, 'docs') : join(ROOT, 'node_modules', '.cache', 'curfew-screens');
      mkdirSync(shots, { recursive: true });
      await page.screenshot({ path: join(shots, 'login.png') });

      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill('wrong password');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await expect(page.getByRole('alert').textContent()).resolves.toContain('Invalid username or password.');

      const password = /alice \/ (.+)/.exec(app.output())![1]!.trim();
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();

      // The demo org has mfa "reentry": the first sign-in sets up an authenticator.
      await page.getByRole('heading', { name: 'Set up two-step sign-in' }).waitFor();
      await expect(page.getByRole('img', { name: /QR code/ }).getAttribute('src')).resolves.toMatch(/^data:image\/png;base64,/);
      await page.screenshot({ path: join(shots, 'enroll.png') });
      const secret = (await page.locator('#secret').innerText()).replace(/\s/g, '');
      await page.getByLabel('Code from the app').fill(await totpCode(secret, Date.now()));
      await page.getByRole('button', { name: 'Finish setup' }).click();
      await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
      expect(await page.locator('#recovery-codes li').count()).toBe(10);
      await page.screenshot({ path: join(shots, 'recovery-codes.png') });
      await page.getByRole('button', { name: /continue/ }).click();

      await page.getByRole('heading', { name: 'Signed in' }).waitFor();
      const table = await page.locator('table').innerText();
      expect(table).toMatch(/preferred_username\s+alice/);
      expect(table).toMatch(/acr\s+urn:curfew:acr:mfa/);
      expect(table).toMatch(/amr\s+\["pwd","otp"\]/);
      expect(table).toMatch(/sid\s+\S+/);
      await page.screenshot({ path: join(shots, 'demo-signed-in.png') });

      await page.getByRole('link', { name: 'Sign out' }).click();
      await page.getByRole('button', { name: /Yes, sign me out/ }).click();
      await page.getByRole('heading', { name: 'You are signed out' }).waitFor();

      // Back with an RP that asks for the MFA context class: password, then the code. The code
      // is the next step's (accepted within ±1 step): this step's was spent at enrollment.
      await page.goto(`${base}/demo?stepup`);
      await page.getByLabel('Username').fill('alice');
      await page.getByLabel('Password').fill(password);
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByLabel('Verification code').waitFor();
      await page.screenshot({ path: join(shots, 'totp.png') });
      await page.getByLabel('Verification code').fill(await totpCode(secret, Date.now() + 30_000));
      await page.getByRole('button', { name: 'Verify' }).click();
      await page.getByRole('heading', { name: 'Signed in' }).waitFor();
      expect(await page.locator('table').innerText()).toMatch(/amr\s+\["pwd","otp"\]/);
    } finally {
      await browser.close();
    }
  });
});

describe('start-up failures', () => {
  it('stops with one message naming every bad setting', async () => {
    const { code, output } = await runMain({ PORT: 'x', ISSUER: 'nope', LOG_LEVEL: 'loud' });
    expect(code).toBe(1);
    expect(output).toContain('Invalid configuration');
    for (const v of ['PORT', 'ISSUER', 'LOG_LEVEL']) expect(output).toContain(`(${v})`);
  });

  it('stops with a clear message when Redis does not answer', async () => {
    const port = await freePort();
    const { code, output } = await runMain({ PORT: '0', REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(code).toBe(1);
    expect(output).toContain('does not answer (REDIS_URL)');
  });

  it('stops on a bad seed file, naming the problems', async () => {
    const { code, output } = await runMain({ PORT: '0', CURFEW_SEED: join(ROOT, 'package.json') });
    expect(code).toBe(1);
    expect(output).toContain('Invalid seed');
  });
});
