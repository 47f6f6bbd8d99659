import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { afterAll, describe, expect, it } from 'vitest';
import { authorizationUrl, completeSignIn, PASSWORDS, signIn, startCurfew } from '../support/curfew.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';

async function keysUnder(prefix: string): Promise<string[]> {
  const redis = new Redis(REDIS_URL);
  try {
    const keys: string[] = [];
    let cursor = '0';
    do {
      const [next, batch] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      keys.push(...batch);
    } while (cursor !== '0');
    return keys;
  } finally {
    redis.disconnect();
  }
}

/** Every key under the prefix with everything stored in it, as one searchable text. */
async function everythingUnder(prefix: string): Promise<string> {
  const redis = new Redis(REDIS_URL);
  try {
    const parts: string[] = [];
    for (const key of await keysUnder(prefix)) {
      const type = await redis.type(key);
      const value =
        type === 'string' ? await redis.get(key)
        : type === 'hash' ? await redis.hgetall(key)
        : type === 'set' ? await redis.smembers(key)
        : type === 'zset' ? await redis.zrange(key, 0, -1, 'WITHSCORES')
        : type === 'list' ? await redis.lrange(key, 0, -1)
        : type === 'stream' ? await redis.xrange(key, '-', '+')
        : `(unreadable ${type})`;
      parts.push(key, JSON.stringify(value));
    }
    return parts.join('\n');
  } finally {
    redis.disconnect();
  }
}

describe('Redis mode: state survives restarts and hides identifiers', () => {
  const prefix = freshPrefix('persist');
  afterAll(() => deletePrefix(prefix));

  it('keeps signing keys, cookie keys, sessions and grants across a restart', async () => {
    const first = await startCurfew('redis', { prefix });
    const ua = first.userAgent();
    const { tokens, claims } = await signIn(first, ua, 'acme-app', 'alice');
    const jwksBefore = await (await fetch(`${first.url}/jwks`)).json();
    await first.curfew.close();
    await first.store.close();

    // A new instance on the same Redis, serving the same issuer.
    const second = await startCurfew('redis', { prefix, port: first.config.port });
    try {
      const jwksAfter = await (await fetch(`${second.url}/jwks`)).json();
      expect(jwksAfter).toEqual(jwksBefore);
      const rp = await second.rp('acme-app');
      // The browser's session cookie and the refresh token both still work.
      const request = await authorizationUrl(rp, { prompt: 'none' });
      const page = await ua.navigate(request.url.href);
      const silent = await completeSignIn(rp, page.leftTo!, request);
      expect(silent.claims.sub).toBe(claims.sub);
      const introspection = await oidc.tokenIntrospection(rp, tokens.refresh_token!);
      expect(introspection).toMatchObject({ active: true, sub: claims.sub });
    } finally {
      await second.close();
    }
  });

  it('never uses a session or token identifier as (part of) a key', async () => {
    const own = freshPrefix('hashing');
    const h = await startCurfew('redis', { prefix: own });
    try {
      const ua = h.userAgent();
      const { tokens } = await signIn(h, ua, 'acme-app', 'alice');
      const keys = (await keysUnder(own)).join('\n');
      const secrets = [
        ua.cookies.get('curfew.session'),
        tokens.access_token,
        tokens.refresh_token,
      ].filter((s): s is string => Boolean(s));
      expect(secrets.length).toBe(3);
      for (const secret of secrets) expect(keys).not.toContain(secret);
      // The records are there, under hashed names.
      expect(keys).toMatch(/Session/);
      expect(keys).toMatch(/RefreshToken/);
    } finally {
      await h.close();
    }
  });

  it('stores no bearer value: no token, code, session cookie or client secret in any key or value after sign-in and refresh', async () => {
    const own = freshPrefix('values');
    const h = await startCurfew('redis', { prefix: own });
    try {
      const ua = h.userAgent();
      const rp = await h.rp('acme-app');
      const request = await authorizationUrl(rp);
      let page = await ua.navigate(request.url.href);
      page = await ua.submit(page, '/login', { username: 'alice', password: PASSWORDS.alice });
      const callback = page.leftTo!;
      const code = new URL(callback).searchParams.get('code');
      const { tokens } = await completeSignIn(rp, callback, request);
      const refreshed = await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
      // Everything still works with the records as stored.
      expect(await oidc.fetchUserInfo(rp, refreshed.access_token, tokens.claims()!.sub)).toMatchObject({ sub: tokens.claims()!.sub });
      const silent = await authorizationUrl(rp, { prompt: 'none' });
      expect((await ua.navigate(silent.url.href)).leftTo).toMatch(/code=/);

      const bearer = {
        clientSecret: 'acme-app-secret-0123456789',
        adminClientSecret: 'acme-admin-secret-0123456789',
        code,
        session: ua.cookies.get('curfew.session'),
        access: tokens.access_token,
        refresh: tokens.refresh_token,
        refreshedAccess: refreshed.access_token,
        refreshedRefresh: refreshed.refresh_token,
      };
      for (const [name, value] of Object.entries(bearer)) expect(value, name).toBeTruthy();
      expect(bearer.refreshedRefresh).not.toBe(bearer.refresh);
      const stored = await everythingUnder(own);
      expect(stored).toMatch(/RefreshToken/);
      for (const [name, value] of Object.entries(bearer)) expect(stored.includes(value!), `${name} is stored`).toBe(false);
    } finally {
      await h.close();
    }
  });
});
