import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { totpCode } from '../../../src/mfa/totp.ts';
import { ROOT } from '../../support/process.ts';
import { PASSWORDS, testSeed, type Harness } from '../../support/curfew.ts';
import type { UserAgent } from '../../support/user-agent.ts';

/** bob's authenticator in {@link consoleSeed}: the console always asks for TOTP. */
export const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** The test seed with bob (acme's admin) enrolled in TOTP. */
export function consoleSeed(): ReturnType<typeof testSeed> {
  const seed = testSeed();
  (seed.orgs[0]!.users.find((u) => u.username === 'bob') as Record<string, unknown>).totpSecret = BOB_SECRET;
  return seed;
}

/** Signs bob in to acme's console over HTTP; returns the page's CSRF token. */
export async function signInConsole(h: Harness, ua: UserAgent): Promise<string> {
  let page = await ua.navigate(`${h.url}/admin/login?org=acme`);
  page = await ua.submit(page, '/login', { username: 'bob', password: PASSWORDS.bob });
  page = await ua.submit(page, '/totp', { code: await totpCode(BOB_SECRET, h.totp.now()) });
  return /name="csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? '';
}

/** Where screenshots go: docs/ when CURFEW_SCREENSHOTS is set (to refresh the README's), else a cache. */
export function screenshotPath(name: string): string {
  const dir = process.env.CURFEW_SCREENSHOTS ? join(ROOT, 'docs') : join(ROOT, 'node_modules', '.cache', 'curfew-screens');
  mkdirSync(dir, { recursive: true });
  return join(dir, name);
}

/** Signs bob in to acme's console in Chromium, with a fresh TOTP step (codes are not replayable). */
export async function signInConsoleBrowser(h: Harness, page: Page): Promise<void> {
  await page.goto(`${h.url}/admin`);
  await page.getByLabel('Organization').fill('acme');
  await page.getByRole('button', { name: 'Continue' }).click();
  await page.getByLabel('Username').fill('bob');
  await page.getByLabel('Password').fill(PASSWORDS.bob);
  await page.getByRole('button', { name: 'Sign in' }).click();
  h.totp.advance(30_000);
  await page.getByLabel('Verification code').fill(await totpCode(BOB_SECRET, h.totp.now()));
  await page.getByRole('button', { name: 'Verify' }).click();
  await page.getByRole('heading', { name: 'Session policy' }).waitFor();
}
