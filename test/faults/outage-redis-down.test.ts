import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, completeSignIn, signIn, startCurfew, type Harness, type SignIn } from '../support/curfew.ts';
import { freshPrefix } from '../support/redis.ts';
import { RedisServer } from '../support/redis-server.ts';
import type { UserAgent } from '../support/user-agent.ts';

const APP = `Basic ${Buffer.from('acme-app:acme-app-secret-0123456789').toString('base64')}`;

describe('honest outages: while Redis is down (killed, connection refused)', () => {
  const server = new RedisServer({ persistent: true });
  let h: Harness;
  let ua: UserAgent;
  let signed: SignIn;
  beforeAll(async () => {
    await server.start();
    h = await startCurfew('redis', { prefix: freshPrefix('down'), redis: { url: server.url } });
    ua = h.userAgent();
    signed = await signIn(h, ua, 'acme-app', 'alice');
  });
  afterAll(async () => {
    await h?.close();
    await server.kill();
  });

  it('answers 503 temporarily_unavailable, never 500, invalid_grant or login_required, and the session lives on once Redis is back', async () => {
    const rp = await h.rp('acme-app');
    const refreshToken = signed.tokens.refresh_token!;
    await server.kill();

    const form = (body: Record<string, string>) => ({ method: 'POST', headers: { authorization: APP, 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(body) });
    const refresh = await fetch(`${h.url}/token`, form({ grant_type: 'refresh_token', refresh_token: refreshToken }));
    expect(refresh.status).toBe(503);
    expect(refresh.headers.get('retry-after')).toBe('5');
    expect(await refresh.json()).toMatchObject({ error: 'temporarily_unavailable' });
    const status = await fetch(`${h.url}/session/status?sid=${signed.claims.sid as string}`, { headers: { authorization: APP } });
    expect(status.status).toBe(503);
    expect(await status.json()).toMatchObject({ error: 'temporarily_unavailable' });
    const silent = await ua.request((await authorizationUrl(rp, { prompt: 'none' })).url.href);
    expect(silent.status).toBe(503);
    expect(silent.headers.get('retry-after')).toBe('5');
    expect(silent.html).toContain('temporarily_unavailable');
    expect(silent.html).not.toContain('login_required');
    expect((await fetch(`${h.url}/readyz`)).status).toBe(503);
    expect((await fetch(`${h.url}/healthz`)).status).toBe(200);

    await server.start();
    let refreshed: oidc.TokenEndpointResponse | undefined;
    for (let i = 0; i < 100 && !refreshed; i++) {
      refreshed = await oidc.refreshTokenGrant(rp, refreshToken).catch(async () => {
        await new Promise((r) => setTimeout(r, 100));
        return undefined;
      });
    }
    expect(refreshed?.access_token).toBeTruthy();
    const request = await authorizationUrl(rp, { prompt: 'none' });
    const again = await ua.navigate(request.url.href);
    expect(again.leftTo).toBeTruthy();
    await completeSignIn(rp, again.leftTo!, request);
    expect((await fetch(`${h.url}/readyz`)).status).toBe(200);
  });
});
