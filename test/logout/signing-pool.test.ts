import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/logger.ts';
import { createLogoutTokenSigner, logoutTokenClaims } from '../../src/logout/logout-token.ts';
import { createSigningPool, signingThreadCount, type SigningPool } from '../../src/logout/signing-pool.ts';
import { generateJwks } from '../../src/oidc/keys.ts';
import { until } from '../support/wait.ts';

const waitFor = (check: () => boolean) => until('the RP or the pool', async () => check(), 10_000, 10);

const ISSUER = 'http://127.0.0.1:1';
const jwks = generateJwks();
const publicJwks = { keys: jwks.keys.map(({ d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub }) => pub) } as JSONWebKeySet;

/** An RP on loopback: keeps every token; while `hold` is set, answers nothing until `release`. */
async function rp() {
  const tokens: string[] = [];
  const held: Array<() => void> = [];
  const state = { hold: false };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      tokens.push(new URLSearchParams(body).get('logout_token') ?? '');
      const answer = () => res.writeHead(200).end();
      if (state.hold) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/bcl`;
  const release = () => held.splice(0).forEach((answer) => answer());
  return { tokens, state, url, release, close: () => (release(), server.closeAllConnections(), new Promise((r) => server.close(r))) };
}

const claims = (sid: string) => logoutTokenClaims({ issuer: ISSUER, clientId: 'app', sub: 'u1', sid, nowMs: Date.now(), lifetimeSeconds: 120 });

describe('signing pool', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(threads = 2, maxTries?: number, maxStartFailures?: number) {
    const server = await rp();
    cleanups.push(server.close);
    const lines: string[] = [];
    const logger = createLogger('info', new Writable({ write: (chunk, _e, done) => (lines.push(String(chunk)), done()) }));
    const pool: SigningPool = createSigningPool({ jwks, threads, poster: { timeoutMs: 5000, concurrencyPerClient: 8 }, logger, ...(maxTries ? { maxTries } : {}), ...(maxStartFailures ? { maxStartFailures } : {}) });
    cleanups.push(() => pool.close());
    return { server, pool, lines };
  }

  it.each(['RS256', 'ES256'])('delivers %s tokens an RP verifies against the JWKS, identical in form to the main thread\'s', async (alg) => {
    const { server, pool } = await setup();
    const sent = claims('s-1');
    expect(await pool.deliver({ claims: sent, alg, url: server.url, allowListed: true })).toEqual({ kind: 'delivered', status: 200 });
    const [token] = server.tokens;
    const { payload, protectedHeader } = await jwtVerify(token!, createLocalJWKSet(publicJwks), { issuer: ISSUER, typ: 'logout+jwt', audience: 'app' });
    expect(payload).toEqual(sent);
    const kid = jwks.keys.find((k) => (k as { alg?: string }).alg === alg)!.kid;
    expect(protectedHeader).toEqual({ alg, kid, typ: 'logout+jwt' });
    const mainThread = await createLogoutTokenSigner(jwks)(sent, alg);
    expect(decodeProtectedHeader(mainThread)).toEqual(protectedHeader);
    expect(decodeJwt(mainThread)).toEqual(payload);
  });

  it('hands back what the RP answered, and a signing failure as an error', async () => {
    const { server, pool } = await setup(1);
    await server.close();
    expect((await pool.deliver({ claims: claims('s-2'), alg: 'ES256', url: server.url, allowListed: true })).kind).toBe('transient');
    await expect(pool.deliver({ claims: claims('s-3'), alg: 'PS512', url: server.url, allowListed: true })).rejects.toThrow(/no signing key for PS512/);
  });

  it('spreads a wave over its threads and delivers every token', async () => {
    const { server, pool } = await setup(2);
    expect(pool.size).toBe(2);
    const outcomes = await Promise.all(Array.from({ length: 200 }, (_, i) => pool.deliver({ claims: claims(`w-${i}`), alg: 'ES256', url: server.url, allowListed: true })));
    expect(outcomes.every((o) => o.kind === 'delivered')).toBe(true);
    expect(new Set(server.tokens.map((t) => decodeJwt(t).sid)).size).toBe(200);
  });

  it('replaces a thread that dies and hands its tokens to another: none is lost', async () => {
    const { server, pool, lines } = await setup(2);
    server.state.hold = true;
    const sids = Array.from({ length: 6 }, (_, i) => `c-${i}`);
    const results = sids.map((sid) => pool.deliver({ claims: claims(sid), alg: 'RS256', url: server.url, allowListed: true }));
    await waitFor(() => server.tokens.length === sids.length);
    const before = pool.threads();
    // Both threads die with every token posted and unanswered.
    await Promise.all(before.map((w) => w.terminate()));
    server.state.hold = false;
    server.release();
    const outcomes = await Promise.all(results);
    expect(outcomes.every((o) => o.kind === 'delivered')).toBe(true);
    expect(pool.size).toBe(2);
    expect(pool.threads().some((w) => before.includes(w))).toBe(false);
    // Each token reached the RP again from a replacement (at least once; the same jti).
    const seen = server.tokens.map((t) => decodeJwt(t));
    for (const sid of sids) expect(seen.filter((c) => c.sid === sid).length).toBeGreaterThanOrEqual(2);
    expect(lines.join('')).toMatch(/a signing thread exited/);
  });

  it('gives a token up after its threads died maxTries times (the sender\'s claim then lapses; it is claimed again)', async () => {
    const { server, pool } = await setup(1, 1);
    server.state.hold = true;
    const result = pool.deliver({ claims: claims('doomed'), alg: 'ES256', url: server.url, allowListed: true });
    await waitFor(() => server.tokens.length === 1);
    await pool.threads()[0]!.terminate();
    await expect(result).rejects.toThrow(/died 1 times/);
    await waitFor(() => pool.size === 1);
  });

  it('never logs the private keys it hands its threads', async () => {
    const { server, pool, lines } = await setup(1);
    server.state.hold = true;
    const result = pool.deliver({ claims: claims('k'), alg: 'ES256', url: server.url, allowListed: true });
    await waitFor(() => server.tokens.length === 1);
    await pool.threads()[0]!.terminate();
    server.state.hold = false;
    server.release();
    await result;
    const logged = lines.join('');
    expect(logged).not.toBe('');
    for (const key of jwks.keys) expect(logged).not.toContain(String(key.d));
  });

  it('closes: its threads stop, tokens in hand fail, and it takes no more', async () => {
    const { server, pool } = await setup(2);
    server.state.hold = true;
    const result = pool.deliver({ claims: claims('late'), alg: 'ES256', url: server.url, allowListed: true });
    await waitFor(() => server.tokens.length === 1);
    await pool.close();
    await expect(result).rejects.toThrow(/closed/);
    expect(pool.size).toBe(0);
    await expect(pool.deliver({ claims: claims('after'), alg: 'ES256', url: server.url, allowListed: true })).rejects.toThrow(/closed/);
  });

  it('stops replacing threads that die before answering anything, rather than spin, and says so', async () => {
    const { server, pool, lines } = await setup(1, undefined, 2);
    await pool.threads()[0]!.terminate();
    await waitFor(() => pool.size === 1);
    expect(pool.available).toBe(true);
    await pool.threads()[0]!.terminate();
    await waitFor(() => !pool.available && pool.size === 0);
    await expect(pool.deliver({ claims: claims('x'), alg: 'ES256', url: server.url, allowListed: true })).rejects.toThrow(/signing threads failed/);
    expect(lines.join('')).toMatch(/keep dying before answering/);
  });

  it('counts a thread that answered and then died as a crash, not a failure to start', async () => {
    const { server, pool } = await setup(1, undefined, 1);
    await pool.deliver({ claims: claims('ok'), alg: 'ES256', url: server.url, allowListed: true });
    await pool.threads()[0]!.terminate();
    await waitFor(() => pool.size === 1);
    expect(pool.available).toBe(true);
  });

  it('reads `auto` as one thread per core, a number as itself', () => {
    expect(signingThreadCount(3)).toBe(3);
    expect(signingThreadCount('auto')).toBeGreaterThanOrEqual(1);
  });
});
