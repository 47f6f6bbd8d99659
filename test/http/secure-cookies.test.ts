import { createHash, randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PASSWORDS, RP_CALLBACK, startCurfew, type Harness } from '../support/curfew.ts';

/** Every Set-Cookie a full sign-in through the login form produces. */
async function cookiesOfASignIn(h: Harness): Promise<string[]> {
  const seen: string[] = [];
  const realFetch = globalThis.fetch;
  const spy = vi.spyOn(globalThis, 'fetch').mockImplementation(async (...args) => {
    const response = await realFetch(...args);
    seen.push(...response.headers.getSetCookie());
    return response;
  });
  try {
    const verifier = randomBytes(32).toString('base64url');
    const auth = new URL('/auth', h.url);
    auth.search = new URLSearchParams({
      client_id: 'acme-app', response_type: 'code', scope: 'openid', redirect_uri: RP_CALLBACK, state: 's', nonce: 'n',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'), code_challenge_method: 'S256',
    }).toString();
    const ua = h.userAgent();
    // The test talks to the listener in plain http; the provider's absolute redirects name the
    // public protocol (https) and are followed back to the listener.
    const plain = h.url.replace('http://', 'https://');
    const follow = async (page: Awaited<ReturnType<typeof ua.navigate>>) => {
      while (page.leftTo?.startsWith(plain)) page = await ua.navigate(page.leftTo.replace(plain, h.url));
      return page;
    };
    const login = await follow(await ua.navigate(auth.href));
    const done = await follow(await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice }));
    expect(done.leftTo).toMatch(/code=/);
  } finally {
    spy.mockRestore();
  }
  return seen;
}

describe('cookies of an https issuer', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('are all Secure, even when the TLS proxy in front is not trusted or sends no X-Forwarded-Proto', async () => {
    h = await startCurfew('memory', { config: { issuer: 'https://id.example', trustProxy: false } });
    const cookies = await cookiesOfASignIn(h);
    const names = cookies.map((c) => c.split('=')[0]);
    expect(names).toEqual(expect.arrayContaining(['curfew.interaction', 'curfew.session']));
    for (const cookie of cookies) expect(cookie, cookie.split('=')[0]).toMatch(/;\s*secure/i);
  });

  it('are not Secure for an http issuer (local development)', async () => {
    h = await startCurfew('memory');
    const cookies = await cookiesOfASignIn(h);
    expect(cookies.length).toBeGreaterThan(0);
    for (const cookie of cookies) expect(cookie).not.toMatch(/;\s*secure/i);
  });
});
