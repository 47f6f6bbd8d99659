import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { JSONWebKeySet } from 'jose';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCurfewError } from '../../src/errors.ts';
import { internalRp, type InternalRp } from '../../src/oidc/internal-rp.ts';
import { PASSWORDS, RP_CALLBACK, startCurfew, testSeed, type Harness } from '../support/curfew.ts';
import { serve } from '../support/serve.ts';

const COOKIE = 'curfew.test.signin';
const CLIENT = 'acme-app';

/**
 * The internal RP mounted in a small app of its own (as the console and the demo mount it) in
 * front of a real Curfew: /begin starts, /callback finishes and answers what complete() gave or
 * threw. /forge stands for a browser that kept a sign-in cookie of this app's (signed by it).
 */
function rpApp(rp: InternalRp): Koa {
  const app = new Koa({ keys: ['internal-rp test cookie key'] });
  app.use(async (ctx) => {
    if (ctx.path === '/begin') return rp.begin(ctx, { login_hint: 'alice' });
    if (ctx.path === '/forge') {
      ctx.cookies.set(COOKIE, String(ctx.query.value), { signed: true });
      ctx.body = 'ok';
      return;
    }
    try {
      ctx.body = { ok: await rp.complete(ctx) };
    } catch (error) {
      ctx.body = { error: isCurfewError(error) ? error.code : String(error), message: error instanceof Error ? error.message : '' };
    }
  });
  return app;
}

/** This app's cookies as a browser would send them back. */
const cookiesOf = (res: Response) => res.headers.getSetCookie().map((line) => line.split(';')[0]!).join('; ');

describe('Curfew\'s own relying parties (src/oidc/internal-rp.ts)', () => {
  let h: Harness;
  let app: { url: string; close(): Promise<void> };
  let unavailable: Server;
  let rpWith: (internalBase: string) => InternalRp;
  const seeded = testSeed().orgs.flatMap((o) => o.clients).find((c) => c.client_id === CLIENT);
  const secret = seeded && 'client_secret' in seeded ? seeded.client_secret : '';

  beforeAll(async () => {
    h = await startCurfew('memory');
    const publicJwks = (await (await fetch(`${h.url}/jwks`)).json()) as JSONWebKeySet;
    rpWith = (internalBase) => internalRp({
      provider: h.curfew.provider,
      clientId: () => CLIENT,
      clientSecret: (id) => (id === CLIENT ? secret : ''),
      redirectUri: RP_CALLBACK,
      internalBase: () => internalBase,
      publicJwks,
      cookie: COOKIE,
    });
    app = await serve(rpApp(rpWith(h.url)));
    // A token endpoint whose store cannot answer.
    unavailable = createServer((_req, res) => res.writeHead(503, { 'content-type': 'application/json' }).end('{"error":"temporarily_unavailable"}'));
    await new Promise<void>((resolve) => unavailable.listen(0, '127.0.0.1', resolve));
  });
  afterAll(async () => {
    await app?.close();
    await new Promise((resolve) => unavailable?.close(resolve));
    await h?.close();
  });

  async function begin(base = app.url) {
    const res = await fetch(`${base}/begin`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    return { location: new URL(res.headers.get('location')!), cookie: cookiesOf(res) };
  }

  /** The browser's trip through Curfew's sign-in: where it comes back to the RP. */
  async function signInAt(location: URL): Promise<URL> {
    const ua = h.userAgent();
    const page = await ua.navigate(location.href);
    const back = await ua.submit(page, '/login', { username: 'alice', password: PASSWORDS.alice });
    return new URL(back.leftTo!);
  }

  const callback = async (query: string, cookie: string, base = app.url) =>
    (await (await fetch(`${base}/callback${query}`, { headers: { cookie } })).json()) as { ok?: { clientId: string; claims: Record<string, unknown> }; error?: string; message?: string };

  it('begins a code flow with S256 PKCE, state and nonce kept in a signed httpOnly cookie', async () => {
    const res = await fetch(`${app.url}/begin`, { redirect: 'manual' });
    const location = new URL(res.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(`${h.url}/auth`);
    const q = Object.fromEntries(location.searchParams);
    expect(q).toMatchObject({ client_id: CLIENT, response_type: 'code', scope: 'openid profile', redirect_uri: RP_CALLBACK, code_challenge_method: 'S256', login_hint: 'alice' });

    const lines = res.headers.getSetCookie();
    const line = lines.find((l) => l.startsWith(`${COOKIE}=`))!;
    expect(line).toMatch(/httponly/i);
    expect(line).toMatch(/samesite=lax/i);
    expect(lines.some((l) => l.startsWith(`${COOKIE}.sig=`))).toBe(true);
    const saved = JSON.parse(decodeURIComponent(line.slice(COOKIE.length + 1).split(';')[0]!)) as Record<string, string>;
    expect(saved).toMatchObject({ state: q.state, nonce: q.nonce, clientId: CLIENT });
    expect(q.code_challenge).toBe(createHash('sha256').update(saved.verifier!).digest('base64url'));
    // Fresh values every time.
    expect((await begin()).location.searchParams.get('state')).not.toBe(q.state);
  });

  it('completes: redeems the code and returns the verified ID token\'s claims for its client', async () => {
    const { location, cookie } = await begin();
    const back = await signInAt(location);
    const answer = await callback(back.search, cookie);
    expect(answer.error).toBeUndefined();
    expect(answer.ok?.clientId).toBe(CLIENT);
    expect(answer.ok?.claims).toMatchObject({ iss: h.url, aud: CLIENT, preferred_username: 'alice', nonce: location.searchParams.get('nonce') });
  });

  it('refuses a response that does not match the sign-in started here: wrong state, no cookie, a cookie not signed by it', async () => {
    const { location, cookie } = await begin();
    const back = await signInAt(location);
    const wrongState = new URLSearchParams(back.search);
    wrongState.set('state', 'not-the-state');
    expect(await callback(`?${wrongState}`, cookie)).toMatchObject({ error: 'bad_request', message: expect.stringContaining('does not match') });
    expect(await callback(back.search, '')).toMatchObject({ error: 'bad_request' });
    const unsigned = cookie.split('; ').filter((c) => !c.startsWith(`${COOKIE}.sig=`)).join('; ');
    expect(await callback(back.search, unsigned)).toMatchObject({ error: 'bad_request' });
    // The code was never spent: the matching request still completes.
    expect((await callback(back.search, cookie)).ok?.clientId).toBe(CLIENT);
  });

  it('says how a refused sign-in ended, and refuses a code redeemed already', async () => {
    const { cookie } = await begin();
    expect(await callback('?error=access_denied&state=x', cookie)).toMatchObject({ error: 'bad_request', message: 'The sign-in ended with "access_denied".' });

    const started = await begin();
    const back = await signInAt(started.location);
    expect((await callback(back.search, started.cookie)).ok).toBeDefined();
    expect(await callback(back.search, started.cookie)).toMatchObject({ error: 'bad_request', message: 'The token exchange failed: invalid_grant.' });
  });

  it('refuses an ID token whose nonce is not this sign-in\'s', async () => {
    const { location, cookie } = await begin();
    const back = await signInAt(location);
    const saved = JSON.parse(decodeURIComponent(cookie.split('; ').find((c) => c.startsWith(`${COOKIE}=`))!.slice(COOKIE.length + 1))) as Record<string, string>;
    const forged = await fetch(`${app.url}/forge?value=${encodeURIComponent(JSON.stringify({ ...saved, nonce: 'another-nonce' }))}`);
    expect(await callback(back.search, cookiesOf(forged))).toMatchObject({ error: 'bad_request', message: 'The ID token does not answer this sign-in.' });
  });

  it('answers temporarily_unavailable when Curfew\'s token endpoint cannot reach its store', async () => {
    const down = await serve(rpApp(rpWith(`http://127.0.0.1:${(unavailable.address() as AddressInfo).port}`)));
    try {
      const { location, cookie } = await begin(down.url);
      const back = await signInAt(location);
      expect(await callback(back.search, cookie, down.url)).toMatchObject({ error: 'temporarily_unavailable' });
    } finally {
      await down.close();
    }
  });
});
