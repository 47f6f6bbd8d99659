import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterEach, describe, expect, it } from 'vitest';
import { createAudit } from '../../src/audit/audit.ts';
import type { AuditEventType } from '../../src/audit/types.ts';
import { ManualClock } from '../../src/clock.ts';
import { createLogger } from '../../src/logger.ts';
import { createLogoutTokenSigner } from '../../src/logout/logout-token.ts';
import { createLogoutSender, type DeliveryFaults, type SenderOptions } from '../../src/logout/sender.ts';
import { createSigningPool, type SigningPool } from '../../src/logout/signing-pool.ts';
import { generateJwks } from '../../src/oidc/keys.ts';
import type { ClientRecord } from '../../src/orgs/types.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import type { Delivery } from '../../src/logout/types.ts';

const ISSUER = 'http://127.0.0.1:1';
const OPTIONS: SenderOptions = {
  maxAttempts: 3, baseDelayMs: 1000, maxDelayMs: 60_000, timeoutMs: 2000, concurrencyPerClient: 4,
  batch: 50, tickMs: 50, leaseMs: 30_000, logoutTokenSeconds: 90, allowlist: ['http://127.0.0.1:*'],
};

/**
 * An RP's back-channel endpoint on loopback: answers `status`, keeps every token it got. While
 * `holding` names a sid, that token's answer waits until the test lets it go.
 */
async function receiver(status: number) {
  const tokens: string[] = [];
  const held: Array<() => void> = [];
  const control = { holding: undefined as string | undefined, release: () => held.splice(0).forEach((answer) => answer()) };
  const server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      const token = new URLSearchParams(body).get('logout_token') ?? '';
      tokens.push(token);
      const answer = () => {
        res.statusCode = status;
        res.end();
      };
      if (control.holding !== undefined && decodeJwt(token).sid === control.holding) held.push(answer);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as AddressInfo).port;
  return { tokens, control, uri: `http://127.0.0.1:${port}/bcl`, close: () => (control.release(), new Promise((r) => server.close(r))) };
}

const client = (uri: string | undefined, over: Partial<ClientRecord> = {}): ClientRecord => ({
  client_id: 'app', org: 'acme', redirect_uris: ['http://127.0.0.1:9/cb'], post_logout_redirect_uris: [],
  ...(uri ? { backchannel_logout_uri: uri } : {}), backchannel_logout_session_required: true, adminApi: false, firstParty: true,
  token_endpoint_auth_method: 'client_secret_basic', grant_types: ['authorization_code'], id_token_signed_response_alg: 'ES256',
  createdAt: new Date().toISOString(), ...over,
});

describe('logout sender', () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function setup(rpStatus: number, clientOver: Partial<ClientRecord> = {}, options: Partial<SenderOptions> = {}, faults?: DeliveryFaults, pool?: Pick<SigningPool, 'deliver' | 'available'>) {
    const rp = await receiver(rpStatus);
    cleanups.push(rp.close);
    const clock = new ManualClock(Date.now());
    const store = createMemoryStore({ clock });
    cleanups.push(() => store.close());
    await store.directory.putClient(client(rp.uri, clientOver));
    const logger = createLogger('silent');
    const sender = createLogoutSender({ store, audit: createAudit(store.audit, logger), logger, issuer: ISSUER, sign: createLogoutTokenSigner(generateJwks()), options: { ...OPTIONS, ...options }, ...(faults ? { faults } : {}), ...(pool ? { pool } : {}) });
    cleanups.push(() => sender.stop());
    const now = clock.now();
    const delivery: Delivery = {
      id: 'd1', org: 'acme', client: 'app', uri: rp.uri, sub: 'u-alice', sid: 'sid-1', reason: 'idle', session: 'uid-1',
      endedAt: now, enqueuedAt: now, attempts: 0, state: 'pending', nextAttemptAt: now,
    };
    await store.deliveries.enqueue([delivery]);
    const audited = async (type: AuditEventType) => (await store.audit.query({ org: 'acme', type, limit: 10 })).items;
    return { rp, clock, store, sender, audited };
  }

  it('refuses options it cannot work with, naming the option', () => {
    const store = createMemoryStore();
    const deps = { store, audit: createAudit(store.audit, createLogger('silent')), logger: createLogger('silent'), issuer: ISSUER, sign: createLogoutTokenSigner(generateJwks()) };
    for (const name of ['maxAttempts', 'timeoutMs', 'batch', 'leaseMs', 'logoutTokenSeconds'] as const) {
      expect(() => createLogoutSender({ ...deps, options: { ...OPTIONS, [name]: 0 } }), name).toThrow(`createLogoutSender: ${name} must be a positive integer`);
    }
    expect(() => createLogoutSender({ ...deps, options: { ...OPTIONS, leaseMs: 2000, timeoutMs: 2000 } })).toThrow(/leaseMs must exceed timeoutMs/);
  });

  it('posts a logout token for the RP session, valid logoutTokenSeconds, and marks it delivered', async () => {
    const t = await setup(200);
    expect(await t.sender.tick()).toBe(1);
    expect(t.rp.tokens).toHaveLength(1);
    const token = t.rp.tokens[0]!;
    expect(decodeProtectedHeader(token)).toMatchObject({ alg: 'ES256', typ: 'logout+jwt' });
    const claims = decodeJwt(token);
    expect(claims).toMatchObject({ iss: ISSUER, aud: 'app', sub: 'u-alice', sid: 'sid-1', iat: Math.floor(t.clock.now() / 1000) });
    expect(claims.exp! - claims.iat!).toBe(90);
    expect(await t.store.deliveries.get('d1')).toBeUndefined();
    expect(await t.audited('backchannel.delivered')).toHaveLength(1);
    // Nothing is left to send.
    expect(await t.sender.tick()).toBe(0);
    expect(t.rp.tokens).toHaveLength(1);
  });

  it('once started, claims at a wake rather than at its poll, and does not wait for an earlier attempt still out', async () => {
    // The poll is a minute away: only wakes can explain what is sent below.
    const t = await setup(200, {}, { tickMs: 60_000 });
    t.rp.control.holding = 'sid-1';
    t.sender.start();
    await expect.poll(() => t.rp.tokens.length, { timeout: 5_000 }).toBe(1);
    // d1's RP has not answered; d2 is queued as an end queues it, and the sender told.
    const d2: Delivery = { ...(await t.store.deliveries.get('d1'))!, id: 'd2', sid: 'sid-2', state: 'pending', attempts: 0 };
    await t.store.deliveries.enqueue([d2]);
    t.sender.wake();
    await expect.poll(async () => (await t.store.deliveries.get('d2')) === undefined, { timeout: 5_000 }).toBe(true);
    expect(decodeJwt(t.rp.tokens[1]!).sid).toBe('sid-2');
    expect(await t.store.deliveries.get('d1')).toBeDefined();
    // Stopping waits for the attempt still out: it is marked delivered, not dropped.
    const stopped = t.sender.stop();
    t.rp.control.release();
    await stopped;
    expect(await t.store.deliveries.get('d1')).toBeUndefined();
    expect(await t.audited('backchannel.delivered')).toHaveLength(2);
  });

  it('records a delivered token once the tokens claimed with it went out, waiting at most a bounded time', async () => {
    const acknowledged: string[] = [];
    const t = await setup(200, {}, {}, async (_step, d) => void acknowledged.push(d.id));
    const d2: Delivery = { ...(await t.store.deliveries.get('d1'))!, id: 'd2', sid: 'sid-2' };
    await t.store.deliveries.enqueue([d2]);
    t.rp.control.holding = 'sid-1';
    const ticked = t.sender.tick();
    await expect.poll(() => acknowledged, { timeout: 5_000, interval: 5 }).toEqual(['d2']);
    // A few turns of the event loop after d2's acknowledgement, far less than the bound at this
    // lease (1 s): recorded at once, it would be marked by now; it waits while d1 is still out...
    await new Promise((r) => setTimeout(r, 20));
    expect(await t.store.deliveries.get('d2')).toBeDefined();
    // ...but not for ever: d1's RP still has not answered.
    await expect.poll(async () => (await t.store.deliveries.get('d2')) === undefined, { timeout: 5_000 }).toBe(true);
    expect(await t.store.deliveries.get('d1')).toBeDefined();
    t.rp.control.release();
    expect(await ticked).toBe(2);
    expect(await t.store.deliveries.get('d1')).toBeUndefined();
    expect(await t.audited('backchannel.delivered')).toHaveLength(2);
  });

  it('retries an RP answering 503 after a backoff delay, and dead-letters after the last attempt', async () => {
    const t = await setup(503);
    const start = t.clock.now();
    await t.sender.tick();
    const retrying = await t.store.deliveries.get('d1');
    expect(retrying).toMatchObject({ state: 'pending', attempts: 1, lastError: 'HTTP 503' });
    expect(retrying!.nextAttemptAt).toBeGreaterThanOrEqual(start + 500);
    expect(retrying!.nextAttemptAt).toBeLessThanOrEqual(start + 1000);
    // Not due again before its delay.
    t.clock.set(retrying!.nextAttemptAt - 1);
    expect(await t.sender.tick()).toBe(0);
    t.clock.set(retrying!.nextAttemptAt);
    expect(await t.sender.tick()).toBe(1);
    t.clock.advance(60_000);
    expect(await t.sender.tick()).toBe(1);
    expect(await t.store.deliveries.get('d1')).toMatchObject({ state: 'dead', attempts: 3, lastError: 'HTTP 503' });
    expect(t.rp.tokens).toHaveLength(3);
    expect(await t.audited('backchannel.retrying')).toHaveLength(2);
    expect(await t.audited('backchannel.dead')).toHaveLength(1);
  });

  it('dead-letters at once on a 400: the RP will never accept this token', async () => {
    const t = await setup(400);
    await t.sender.tick();
    expect(await t.store.deliveries.get('d1')).toMatchObject({ state: 'dead', attempts: 1, lastError: 'HTTP 400' });
  });

  it('sends nothing to a client that has moved to another org, or lost its URI', async () => {
    const moved = await setup(200, { org: 'globex' });
    await moved.sender.tick();
    expect(moved.rp.tokens).toEqual([]);
    expect(await moved.store.deliveries.get('d1')).toMatchObject({ state: 'dead', lastError: 'the client no longer belongs to the delivery\'s org' });

    const noUri = await setup(200);
    await noUri.store.directory.putClient(client(undefined));
    await noUri.sender.tick();
    expect(noUri.rp.tokens).toEqual([]);
    expect(await noUri.store.deliveries.get('d1')).toMatchObject({ state: 'dead', lastError: 'the client has no backchannel_logout_uri any more' });
  });

  it('refuses a loopback URI that is not allow-listed (SSRF)', async () => {
    const t = await setup(200, {}, { allowlist: [] });
    await t.sender.tick();
    expect(t.rp.tokens).toEqual([]);
    expect((await t.store.deliveries.get('d1'))?.state).toBe('dead');
  });

  it('on signing threads: a thread dying with the token posted and unanswered loses nothing (retried, delivered, marked)', async () => {
    const jwks = generateJwks();
    const pool = createSigningPool({ jwks, threads: 1, poster: { timeoutMs: OPTIONS.timeoutMs, concurrencyPerClient: 4 }, logger: createLogger('silent') });
    cleanups.push(() => pool.close());
    const t = await setup(200, {}, {}, undefined, pool);
    t.rp.control.holding = 'sid-1';
    const ticked = t.sender.tick();
    for (let i = 0; i < 500 && t.rp.tokens.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
    expect(t.rp.tokens).toHaveLength(1);
    await pool.threads()[0]!.terminate();
    t.rp.control.holding = undefined;
    t.rp.control.release();
    expect(await ticked).toBe(1);
    // Sent again from the replacement thread: at least once, the same token.
    expect(t.rp.tokens).toHaveLength(2);
    expect(decodeJwt(t.rp.tokens[1]!)).toEqual(decodeJwt(t.rp.tokens[0]!));
    expect(await t.store.deliveries.get('d1')).toBeUndefined();
    expect(await t.audited('backchannel.delivered')).toHaveLength(1);
  });

  it('signs and posts on its own loop when the pool\'s threads failed', async () => {
    const failed: Pick<SigningPool, 'deliver' | 'available'> = { available: false, deliver: () => Promise.reject(new Error('the signing threads failed')) };
    const t = await setup(200, {}, {}, undefined, failed);
    expect(await t.sender.tick()).toBe(1);
    expect(t.rp.tokens).toHaveLength(1);
    expect(await t.store.deliveries.get('d1')).toBeUndefined();
  });
});
