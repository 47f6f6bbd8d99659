import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { signIn, startCurfew, type Harness, type SignIn } from '../support/curfew.ts';
import { CONNECTION_NAME } from '../../src/store/redis/connection.ts';
import { LIBRARY } from '../../src/store/redis/library.ts';
import { freePort, runMain, startMain } from '../support/process.ts';
import { freshPrefix } from '../support/redis.ts';
import { SENTINEL_SETUP_PASSWORD, SentinelSetup } from '../support/redis-sentinel.ts';
import { RpReceiver } from '../support/rp-receiver.ts';
import { ALLOW, CLIENTS, drain, seedFor, startSessions, tally } from './wave.ts';

const MIN = 60_000;
/** The test seed's idle limit. */
const IDLE_MS = 15 * MIN;
const APP = `Basic ${Buffer.from('acme-app:acme-app-secret-0123456789').toString('base64')}`;

/** A secret in a file of its own (mode 0600), for a `<VARIABLE>_FILE` setting. */
const secretsDir = mkdtempSync(join(tmpdir(), 'curfew-sentinel-secrets-'));
function secretFile(value: string): string {
  const file = join(secretsDir, `secret-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `${value}\n`, { mode: 0o600 });
  return file;
}

describe('Redis Sentinel: a planned failover mid-test (a primary, a replica, three sentinels)', () => {
  const sentinel = new SentinelSetup();
  const rp = new RpReceiver();
  let h: Harness;
  beforeAll(async () => {
    await sentinel.start();
    await rp.start();
    h = await startCurfew('redis', {
      prefix: freshPrefix('sentinel'),
      // With sentinels the URL's host is never dialled: the sentinels name the primary.
      redis: { url: sentinel.url, sentinel: sentinel.target },
      seed: seedFor(rp),
      config: ALLOW,
    });
    rp.trust(h.url, `${h.url}/jwks`, () => h.clock.now());
  }, 40_000);
  afterAll(async () => {
    await h?.close();
    await rp.close();
    await sentinel.close();
    rmSync(secretsDir, { recursive: true, force: true });
  });

  it('keeps enforcing a session made before it, delivers the logout queued before it, and never answers 500 during it', { timeout: 60_000 }, async () => {
    const t0 = await h.clock.now();
    const first = await sentinel.primaryPort();
    expect(first).toBe(sentinel.primary.port);

    // Before: alice signs in through openid-client; another session ends with its logouts still queued.
    const signed: SignIn = await signIn(h, h.userAgent(), 'acme-app', 'alice');
    const sid = String(signed.claims.sid);
    const [queued] = await startSessions(h, 'queued', 1);
    await h.curfew.sessions.end(queued!, 'admin');
    await h.curfew.sweeper.tick();
    expect((await h.store.deliveries.list('acme', 'pending')).length).toBe(CLIENTS.length);
    expect(rp.received).toHaveLength(0);
    // Function libraries are replicated with the data: the server about to be promoted already holds Curfew's.
    expect(await sentinel.hasLibrary(first, LIBRARY)).toBe(true);
    expect(await sentinel.hasLibrary(sentinel.replica!.port, LIBRARY)).toBe(true);

    // During: requests keep coming while the sentinels switch primaries.
    const statuses: Array<{ status: number; retryAfter: string | null }> = [];
    let switching = true;
    const traffic = (async () => {
      while (switching) {
        try {
          const res = await fetch(`${h.url}/session/status?sid=${sid}`, { headers: { authorization: APP } });
          await res.arrayBuffer();
          statuses.push({ status: res.status, retryAfter: res.headers.get('retry-after') });
        } catch {
          statuses.push({ status: 0, retryAfter: null }); // no answer at all: fails the assertion below
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    onTestFinished(async () => {
      switching = false;
      await traffic;
    });
    expect(await sentinel.clientsNamed(first, CONNECTION_NAME)).toBeGreaterThan(0);
    const switchStart = Date.now();
    const { from, to } = await sentinel.failover();
    // The old primary still takes writes until the sentinels demote it: every Curfew connection
    // must have left it for the new one by itself (ioredis hears +switch-master), or writes
    // made now would be lost when the old primary resyncs as a replica.
    let followed = false;
    for (let i = 0; i < 200 && !followed; i++) {
      followed = (await sentinel.clientsNamed(from, CONNECTION_NAME)) === 0 && (await sentinel.clientsNamed(to, CONNECTION_NAME)) > 0;
      if (!followed) await new Promise((r) => setTimeout(r, 50));
    }
    const switchMs = Date.now() - switchStart;
    expect(followed, 'Curfew follows the switch to the new primary').toBe(true);
    expect((await sentinel.info(from, 'replication')).role, 'the old primary is not demoted yet').toBe('master');
    switching = false;
    await traffic;
    expect({ from, to }).toEqual({ from: sentinel.primary.port, to: sentinel.replica!.port });
    expect(await sentinel.primaryPort()).toBe(to);
    expect(statuses.length).toBeGreaterThan(0);
    for (const s of statuses) {
      expect([200, 503]).toContain(s.status);
      if (s.status === 503) expect(s.retryAfter).toBeTruthy();
    }
    console.log(`sentinel failover ${from} → ${to}: ${statuses.length} requests, ${statuses.filter((s) => s.status === 503).length} answered 503; every Curfew connection on the new primary ${switchMs} ms after SENTINEL FAILOVER`);
    expect(await sentinel.hasLibrary(to, LIBRARY)).toBe(true);

    // After: the session made before the switch is alive 1 ms before its idle deadline, ended at it.
    const status = async () => {
      const res = await fetch(`${h.url}/session/status?sid=${sid}`, { headers: { authorization: APP } });
      expect(res.status).toBe(200);
      return ((await res.json()) as { active: boolean }).active;
    };
    const app = await h.rp('acme-app');
    await h.clock.set(t0 + IDLE_MS - 1);
    expect(await status()).toBe(true);
    const renewed = await oidc.refreshTokenGrant(app, signed.tokens.refresh_token!);
    expect(renewed.access_token).toBeTruthy();
    await h.clock.set(t0 + IDLE_MS);
    expect(await status()).toBe(false);
    await expect(oidc.refreshTokenGrant(app, renewed.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });

    // The logouts queued on the old primary arrive, verified with jose against the JWKS, once each.
    await drain(h, rp, [queued!]);
    const t = await tally(h, rp, [queued!], 1);
    expect(t).toMatchObject({ owed: CLIENTS.length, delivered: CLIENTS.length, lost: 0, duplicates: 0 });
    // The session that ended at its deadline owes acme-app its token too, delivered by the new primary's queue.
    await h.curfew.sweeper.tick();
    await h.curfew.sender.tick();
    await rp.waitFor(() => rp.received.some((r) => r.payload.sid === sid));
  });

  it('runs every function again after the primary lost its library under its open connections (Function not found → FUNCTION LOAD)', async () => {
    const primary = await sentinel.primaryPort();
    await sentinel.flushFunctions(primary);
    expect(await sentinel.hasLibrary(primary, LIBRARY)).toBe(false);
    const signed = await signIn(h, h.userAgent(), 'acme-other', 'bob');
    const res = await fetch(`${h.url}/session/status?sid=${String(signed.claims.sid)}`, {
      headers: { authorization: `Basic ${Buffer.from('acme-other:acme-other-secret-0123456789').toString('base64')}` },
    });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ active: true });
    expect(await sentinel.hasLibrary(primary, LIBRARY)).toBe(true);
  });

  it('npm start finds the primary through CURFEW_REDIS_SENTINELS and CURFEW_REDIS_SENTINEL_NAME', async () => {
    const port = await freePort();
    const before = await sentinel.clientsNamed(await sentinel.primaryPort(), CONNECTION_NAME);
    const app = await startMain(
      {
        PORT: String(port),
        ISSUER: `http://127.0.0.1:${port}`,
        REDIS_URL: sentinel.url,
        CURFEW_REDIS_SENTINELS: sentinel.target.hosts.join(','),
        CURFEW_REDIS_SENTINEL_NAME: sentinel.name,
        // Secrets from files, as in production.
        CURFEW_REDIS_SENTINEL_PASSWORD_FILE: secretFile(SENTINEL_SETUP_PASSWORD),
        CURFEW_REDIS_PREFIX: freshPrefix('sentinel-main'),
      },
      /Curfew is serving/,
    );
    try {
      expect(app.output()).toContain('"store":"redis"');
      expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
      // Its connection is on the primary the sentinels name now (after the failover above, the former replica).
      expect(await sentinel.clientsNamed(await sentinel.primaryPort(), CONNECTION_NAME)).toBeGreaterThan(before);
    } finally {
      await app.stop();
    }
  });

  it('stops with a clear message when no sentinel answers', async () => {
    const { code, output } = await runMain({
      PORT: '0',
      REDIS_URL: 'redis://sentinel-names-the-primary.invalid',
      CURFEW_REDIS_SENTINELS: `127.0.0.1:${await freePort()}`,
      CURFEW_REDIS_SENTINEL_NAME: sentinel.name,
    });
    expect(code).toBe(1);
    expect(output).toContain(`the primary '${sentinel.name}' of sentinels 127.0.0.1:`);
    expect(output).toContain('does not answer (REDIS_URL, CURFEW_REDIS_SENTINELS, CURFEW_REDIS_SENTINEL_NAME)');
  });
});
