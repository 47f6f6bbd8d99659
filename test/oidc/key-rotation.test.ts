import { randomBytes } from 'node:crypto';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateJwks, type SigningJwks } from '../../src/oidc/keys.ts';
import { authorizationUrl, completeSignIn, signIn, startCurfew, type Harness } from '../support/curfew.ts';
import { freePort } from '../support/process.ts';
import { freshPrefix } from '../support/redis.ts';
import { RedisServer } from '../support/redis-server.ts';

const kidOf = (jwks: SigningJwks, alg: string) => String(jwks.keys.find((k) => (k as { alg?: string }).alg === alg)!.kid);

/**
 * What the README's key rotation says, done as an operator would: restart every instance with a
 * new key prepended to CURFEW_JWKS and CURFEW_COOKIE_KEYS, the old ones kept after it.
 */
describe('rotating the signing and cookie keys (restart with the new key first, the old one kept)', () => {
  const redis = new RedisServer();
  const prefix = freshPrefix('rotation');
  const old = generateJwks();
  const fresh = generateJwks();
  const oldCookie = randomBytes(32).toString('base64url');
  const newCookie = randomBytes(32).toString('base64url');
  let port: number;
  let h: Harness | undefined;
  const start = (jwks: SigningJwks, cookieKeys: string[]) =>
    startCurfew('redis', { prefix, port, redis: { url: redis.url }, config: { 'secrets.jwks': jwks, 'secrets.cookieKeys': cookieKeys } });

  beforeAll(async () => {
    await redis.start();
    port = await freePort();
  });
  afterAll(async () => {
    await h?.close();
    await redis.close();
  });

  it('signs with the new keys at once, while tokens and browser sessions made under the old ones keep working', async () => {
    h = await start(old, [oldCookie]);
    const ua = h.userAgent();
    const before = await signIn(h, ua, 'acme-app', 'alice');
    expect(decodeProtectedHeader(before.tokens.id_token!).kid).toBe(kidOf(old, 'RS256'));
    await h.close();

    h = await start({ keys: [...fresh.keys, ...old.keys] }, [newCookie, oldCookie]);
    const published = (await (await fetch(`${h.url}/jwks`)).json()) as JSONWebKeySet;
    expect(published.keys.map((k) => k.kid)).toEqual([...fresh.keys, ...old.keys].map((k) => k.kid));
    expect(published.keys.every((k) => !('d' in k))).toBe(true);
    // An ID token signed before the rotation still verifies against the published set.
    await jwtVerify(before.tokens.id_token!, createLocalJWKSet(published), { issuer: h.url, audience: 'acme-app', currentDate: new Date(await h.clock.now()) });

    const rp = await h.rp('acme-app');
    // The refresh token issued before the rotation works; what it returns is signed with the new key.
    const refreshed = await oidc.refreshTokenGrant(rp, before.tokens.refresh_token!);
    expect(decodeProtectedHeader(refreshed.id_token!).kid).toBe(kidOf(fresh, 'RS256'));
    // The browser's SSO session cookie, signed with the old cookie key, still signs it in silently.
    const silent = await authorizationUrl(rp, { prompt: 'none' });
    const page = await ua.navigate(silent.url.href);
    expect(page.leftTo, 'prompt=none answered with a code').toContain('code=');
    const again = await completeSignIn(rp, page.leftTo!, silent);
    expect(again.claims.sid).toBe(before.claims.sid);
    expect(decodeProtectedHeader(again.tokens.id_token!).kid).toBe(kidOf(fresh, 'RS256'));
  });
});
