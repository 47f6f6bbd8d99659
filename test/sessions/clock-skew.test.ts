import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORDS, RP_CALLBACK, testSeed } from '../support/curfew.ts';
import { freePort, ROOT, startMain, type Started } from '../support/process.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';
import { UserAgent } from '../support/user-agent.ts';

const MIN = 60_000;
const SECRET = 'acme-app-secret-0123456789';

/**
 * SPEC §3 "one clock": two instances whose own clocks are 5 minutes fast and 5 minutes slow
 * share one Redis. Deadlines are judged by the shared clock, so the session ends exactly on
 * time at both. (Raw HTTP for tokens: an RP library would rightly reject the skewed instances'
 * ID token timestamps, which is not what this test is about.)
 */
describe('instances with skewed clocks', () => {
  const prefix = freshPrefix('skew');
  const redis = new Redis(REDIS_URL);
  let fast: Started;
  let slow: Started;
  let fastUrl: string;
  let slowUrl: string;
  const pin = (ms: number) => redis.set(`${prefix}clock:pinned`, String(ms));

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'curfew-skew-'));
    const seedFile = join(dir, 'seed.json');
    writeFileSync(seedFile, JSON.stringify(testSeed()));
    const [p1, p2] = [await freePort(), await freePort()];
    fastUrl = `http://127.0.0.1:${p1}`;
    slowUrl = `http://127.0.0.1:${p2}`;
    const common = { ISSUER: fastUrl, REDIS_URL, CURFEW_REDIS_PREFIX: prefix, CURFEW_SEED: seedFile, CURFEW_TEST_PINNABLE_CLOCK: '1', LOG_LEVEL: 'info' };
    const preload = ['--import', join(ROOT, 'test/support/skewed-clock.mjs')];
    fast = await startMain({ ...common, PORT: String(p1), CURFEW_TEST_SKEW_MS: String(5 * MIN) }, /Curfew is serving/, 20_000, preload);
    slow = await startMain({ ...common, PORT: String(p2), CURFEW_TEST_SKEW_MS: String(-5 * MIN) }, /Curfew is serving/, 20_000, preload);
  });
  afterAll(async () => {
    await fast?.stop();
    await slow?.stop();
    redis.disconnect();
    await deletePrefix(prefix);
  });

  async function refresh(base: string, token: string): Promise<{ status: number; body: Record<string, string> }> {
    const res = await fetch(`${base}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`acme-app:${SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, string> };
  }

  it('ends a session exactly at its idle deadline on both instances', async () => {
    const t0 = Date.now();
    await pin(t0);
    const verifier = oidc.randomPKCECodeVerifier();
    const url = new URL(`${fastUrl}/auth`);
    url.search = new URLSearchParams({
      client_id: 'acme-app', response_type: 'code', scope: 'openid', redirect_uri: RP_CALLBACK,
      code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256',
    }).toString();
    const ua = new UserAgent(fastUrl);
    const login = await ua.navigate(url.href);
    const done = await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice });
    const code = new URL(done.leftTo!).searchParams.get('code')!;
    const exchange = await fetch(`${slowUrl}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`acme-app:${SECRET}`).toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: RP_CALLBACK, code_verifier: verifier }),
    });
    expect(exchange.status).toBe(200);
    const tokens = (await exchange.json()) as { refresh_token: string; id_token: string };
    // The slow instance really lives 5 minutes in the past.
    const iat = (JSON.parse(Buffer.from(tokens.id_token.split('.')[1]!, 'base64url').toString()) as { iat: number }).iat;
    expect(iat * 1000 - Date.now()).toBeLessThan(-4 * MIN);
    let token = tokens.refresh_token;

    // Idle is 15 minutes in the test seed; refreshes are passive.
    await pin(t0 + 15 * MIN - 1);
    for (const base of [slowUrl, fastUrl]) {
      const res = await refresh(base, token);
      expect(res.status, base).toBe(200);
      token = res.body.refresh_token ?? token;
    }
    await pin(t0 + 15 * MIN);
    for (const base of [fastUrl, slowUrl]) {
      const res = await refresh(base, token);
      expect(res.status, base).toBe(400);
      expect(res.body.error).toBe('invalid_grant');
    }
  });
});
