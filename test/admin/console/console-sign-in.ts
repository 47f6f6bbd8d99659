import { totpCode } from '../../../src/mfa/totp.ts';
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
