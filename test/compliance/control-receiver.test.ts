import Router from '@koa/router';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.ts';
import { controlReceipts, mountControlReceiver } from '../../src/compliance/control-receiver.ts';
import { logoutTokenClaims } from '../../src/logout/logout-token.ts';
import { createIdentifierHasher } from '../../src/crypto/identifier-hash.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { createRedisStore } from '../../src/store/redis/index.ts';
import { errorHandler } from '../../src/http/errors.ts';
import { createLogger } from '../../src/logger.ts';
import type { Store } from '../../src/store/types.ts';
import { serve } from '../support/serve.ts';

const ISSUER = 'https://id.example';
const PATH = '/compliance/control-test/backchannel';
const isControl = (id: string) => id.startsWith('curfew-control-');

describe('the control test\'s back-channel receiver', () => {
  let store: Store;
  let clock: ManualClock;
  let receipts: ReturnType<typeof controlReceipts>;
  let server: Awaited<ReturnType<typeof serve>>;
  let sign: (claims: Record<string, unknown>, header?: { typ?: string }) => Promise<string>;
  let foreignSign: typeof sign;

  beforeAll(async () => {
    clock = new ManualClock(Date.now());
    store = createMemoryStore({ clock });
    receipts = controlReceipts(store.models, createIdentifierHasher('k'.repeat(32)));
    const ours = await generateKeyPair('RS256', { extractable: true });
    const theirs = await generateKeyPair('RS256');
    const jwk: JWK = { ...(await exportJWK(ours.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    const signer = (key: CryptoKey) => (claims: Record<string, unknown>, header: { typ?: string } = {}) =>
      new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'k1', typ: header.typ ?? 'logout+jwt' }).sign(key);
    sign = signer(ours.privateKey);
    foreignSign = signer(theirs.privateKey);
    const router = new Router();
    mountControlReceiver(router, { path: PATH, issuer: ISSUER, jwks: { keys: [jwk] }, receipts, now: async () => clock.now(), isControlClient: isControl });
    const app = new Koa();
    app.use(router.routes());
    server = await serve(app);
  });
  afterAll(async () => {
    await server.close();
    await store.close();
  });

  const claims = (over: Record<string, unknown> = {}) => ({ ...logoutTokenClaims({ issuer: ISSUER, clientId: 'curfew-control-acme', sub: 'u-ctl', sid: 'sid-1', nowMs: Date.now(), lifetimeSeconds: 120 }), ...over });
  const post = (token: string) => fetch(`${server.url}${PATH}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ logout_token: token }) });

  it('accepts a logout token an RP would, for a control client, and records when (by the shared clock)', async () => {
    const res = await post(await sign(claims({ sid: 'sid-ok' })));
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(await receipts.find('sid-ok')).toEqual({ sid: 'sid-ok', client: 'curfew-control-acme', receivedAt: clock.now() });
  });

  it('refuses (400 invalid_request, nothing recorded) what an RP must refuse (Back-Channel Logout 1.0 §2.6)', async () => {
    const { events: _events, ...noEvents } = claims();
    const { sid: _sid, ...noSid } = claims();
    const cases: Record<string, Promise<string>> = {
      'another key': foreignSign(claims({ sid: 'sid-bad-1' })),
      'another issuer': sign(claims({ sid: 'sid-bad-2', iss: 'https://evil.example' })),
      'a nonce': sign(claims({ sid: 'sid-bad-3', nonce: 'n' })),
      'no event': sign({ ...noEvents, sid: 'sid-bad-4' }),
      'another event': sign(claims({ sid: 'sid-bad-5', events: { 'urn:other': {} } })),
      'no sid': sign(noSid),
      'an app, not the control client': sign(claims({ sid: 'sid-bad-6', aud: 'acme-app' })),
      'expired': sign(claims({ sid: 'sid-bad-7', iat: Math.floor(Date.now() / 1000) - 600, exp: Math.floor(Date.now() / 1000) - 300 })),
      'an ID token typ': sign(claims({ sid: 'sid-bad-8' }), { typ: 'JWT' }),
      'garbage': Promise.resolve('not.a.jwt'),
      'nothing': Promise.resolve(''),
    };
    for (const [what, token] of Object.entries(cases)) {
      const res = await post(await token);
      expect(res.status, what).toBe(400);
      expect(((await res.json()) as { error: string }).error, what).toBe('invalid_request');
    }
    for (let i = 1; i <= 8; i++) expect(await receipts.find(`sid-bad-${i}`)).toBeUndefined();
  });

  it('keeps receipts a day, and reads back nothing for a record that is not a receipt', async () => {
    await receipts.record({ sid: 'sid-day', client: 'curfew-control-acme', receivedAt: 1 });
    const start = clock.now();
    clock.set(start + 24 * 3600_000 - 1);
    expect(await receipts.find('sid-day')).toBeDefined();
    clock.set(start + 24 * 3600_000);
    expect(await receipts.find('sid-day')).toBeUndefined();
    clock.set(start);
    await store.models.upsert('CurfewControlReceipt', createIdentifierHasher('k'.repeat(32))('control-receipt:sid-odd'), { sid: 'sid-odd', client: 7 }, 60, {});
    expect(await receipts.find('sid-odd')).toBeUndefined();
  });
});

// A valid token the receiver cannot record is the store's failure, not the token's: 400 would
// make Curfew's sender dead-letter it at once; 503 + Retry-After makes it retry.
describe('the control test\'s receiver while the store cannot answer', () => {
  it('answers a valid logout token 503 temporarily_unavailable with Retry-After, not 400', async () => {
    const dead = createRedisStore({ url: 'redis://127.0.0.1:1', prefix: 'curfew-test-dead:' });
    const keys = await generateKeyPair('ES256', { extractable: true });
    const jwk: JWK = { ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    const router = new Router();
    mountControlReceiver(router, { path: PATH, issuer: ISSUER, jwks: { keys: [jwk] }, receipts: controlReceipts(dead.models, createIdentifierHasher('k'.repeat(32))), now: async () => Date.now(), isControlClient: isControl });
    const app = new Koa();
    app.use(errorHandler(createLogger('silent')));
    app.use(router.routes());
    const server = await serve(app);
    try {
      const token = await new SignJWT({ ...logoutTokenClaims({ issuer: ISSUER, clientId: 'curfew-control-acme', sub: 'u-ctl', sid: 'sid-down', nowMs: Date.now(), lifetimeSeconds: 120 }) })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'logout+jwt' })
        .sign(keys.privateKey);
      const res = await fetch(`${server.url}${PATH}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' }, body: new URLSearchParams({ logout_token: token }) });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { error: string }).error).toBe('temporarily_unavailable');
    } finally {
      await server.close();
      await dead.close();
    }
  });
});
