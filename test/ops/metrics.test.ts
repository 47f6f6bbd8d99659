import * as oidc from 'openid-client';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/mfa/totp.ts';
import { authorizationUrl, completeSignIn, PASSWORDS, signIn, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';
import { REDIS_URL } from '../support/redis.ts';
import { RpReceiver } from '../support/rp-receiver.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';

/** The label sets of one metric family in a Prometheus scrape. */
function labelSets(scrape: string, metric: string): string[] {
  return scrape.split('\n').filter((line) => line.startsWith(`${metric}{`)).map((line) => line.slice(metric.length, line.lastIndexOf('}') + 1));
}

/** The sum of a metric's samples whose labels include all of `labels` (0 when there is none). */
function sample(scrape: string, metric: string, labels: Record<string, string> = {}): number {
  let total = 0;
  for (const line of scrape.split('\n')) {
    const match = /^([a-z_:][a-z0-9_:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (!match || match[1] !== metric) continue;
    const set = match[2] ?? '';
    if (Object.entries(labels).every(([k, v]) => set.includes(`${k}="${v}"`))) total += Number(match[3]);
  }
  return total;
}

describe('/metrics label cardinality', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew('memory');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('stays bounded after 2,000 requests to junk paths', async () => {
    for (let i = 0; i < 2000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, (_, j) => fetch(`${h.url}/junk-${i + j}/x${(i + j) % 7}?q=${i}`).then((r) => r.arrayBuffer())));
    }
    // A few known routes, with ids in their paths, still label by template.
    await fetch(`${h.url}/interaction/abc123`).then((r) => r.arrayBuffer());
    await fetch(`${h.url}/interaction/def456`).then((r) => r.arrayBuffer());
    await fetch(`${h.url}/.well-known/openid-configuration`).then((r) => r.arrayBuffer());
    const scrape = await (await fetch(`${h.url}/metrics`)).text();

    const requests = labelSets(scrape, 'curfew_http_requests_total');
    expect(requests.length).toBeLessThan(10);
    expect(requests).toContain('{method="GET",route="other",status="404"}');
    expect(requests.some((l) => l.includes('route="/interaction/:uid"'))).toBe(true);
    expect(requests.some((l) => l.includes('route="/.well-known/openid-configuration"'))).toBe(true);
    expect(scrape).not.toMatch(/junk-/);
    expect(labelSets(scrape, 'curfew_http_request_duration_seconds_count').length).toBeLessThan(10);
  });
});

const MIN = 60_000;
const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** Bob needs a TOTP code at every sign-in; acme-app receives logout tokens. */
function seed(receiver: RpReceiver) {
  const s = testSeed();
  s.orgs[0]!.policy = { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'always', rules: [] } as typeof s.orgs[0]['policy'];
  (s.orgs[0]!.users.find((u) => u.username === 'bob')! as Record<string, unknown>).totpSecret = BOB_SECRET;
  for (const client of s.orgs[0]!.clients as Array<Record<string, unknown>>) {
    if (client.client_id === 'acme-app') client.backchannel_logout_uri = receiver.uri('acme-app');
  }
  return s;
}

describe.each(STORE_KINDS)('the operator\'s signals move with real traffic (%s store)', (kind) => {
  let h: Harness;
  let receiver: RpReceiver;
  beforeEach(async () => {
    receiver = new RpReceiver();
    await receiver.start();
    h = await startCurfew(kind, { seed: seed(receiver), config: { 'backchannel.allowlist': ['http://127.0.0.1:*'], 'login.accountFailures': 3 } });
    receiver.trust(h.url, `${h.url}/jwks`);
  });
  afterEach(async () => {
    await h?.close();
    await receiver?.close();
  });

  const scrape = async () => (await fetch(`${h.url}/metrics`)).text();

  it('exports every series before its first event', async () => {
    const first = await scrape();
    for (const name of [
      'curfew_sessions_started_total', 'curfew_sessions_ended_total', 'curfew_session_end_lateness_seconds', 'curfew_enforcement_decisions_total',
      'curfew_backchannel_deliveries_total', 'curfew_sign_ins_total', 'curfew_mfa_verifications_total', 'curfew_lockout_refusals_total',
      'curfew_store_call_duration_seconds', 'curfew_sso_sessions_live', 'curfew_rp_sessions_live', 'curfew_sweeper_backlog', 'curfew_sweeper_backlog_oldest_age_seconds',
      'curfew_delivery_queue_depth', 'curfew_delivery_queue_due', 'curfew_delivery_queue_oldest_age_seconds', 'curfew_dead_letters',
      'curfew_session_end_outbox', 'curfew_store_up',
    ]) expect(first, name).toMatch(new RegExp(`^# TYPE ${name} `, 'm'));
    expect(sample(first, 'curfew_store_up')).toBe(1);
    expect(sample(first, 'curfew_sso_sessions_live')).toBe(0);
    expect(sample(first, 'curfew_rp_sessions_live')).toBe(0);
  });

  it('counts a failed password, a failed code, a sign-in, a refresh, an account lockout, an idle expiry and its delivery', async () => {
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    const rp = await h.rp('acme-app');
    const request = await authorizationUrl(rp, { scope: 'openid offline_access', prompt: 'consent' });
    const login = await ua.navigate(request.url.href);
    const wrongPassword = await ua.submit(login, '/login', { username: 'bob', password: 'not his password' });
    const askCode = await ua.submit(wrongPassword, '/login', { username: 'bob', password: PASSWORDS.bob });
    h.totp.advance(30_000);
    const code = await totpCode(BOB_SECRET, h.totp.now());
    const wrongCode = await ua.submit(askCode, '/totp', { code: code === '123456' ? '654321' : '123456' });
    expect(wrongCode.status).toBe(400);
    let page = await ua.submit(wrongCode, '/totp', { code });
    if (!page.leftTo && /\/confirm"/.test(page.html)) page = await ua.submit(page, '/confirm');
    expect(page.leftTo, page.html.replace(/<[^>]+>/g, " ").replace(/\s+/g, " ").slice(0, 600)).toBeDefined();
    const { tokens } = await completeSignIn(rp, page.leftTo!, request);

    let now = await scrape();
    expect(sample(now, 'curfew_sign_ins_total', { outcome: 'invalid_credentials' })).toBe(1);
    expect(sample(now, 'curfew_sign_ins_total', { outcome: 'ok' })).toBe(1);
    expect(sample(now, 'curfew_mfa_verifications_total', { outcome: 'invalid' })).toBe(1);
    expect(sample(now, 'curfew_mfa_verifications_total', { outcome: 'totp' })).toBe(1);
    expect(sample(now, 'curfew_sessions_started_total', { scope: 'sso' })).toBe(1);
    expect(sample(now, 'curfew_sessions_started_total', { scope: 'rp' })).toBe(1);
    expect(sample(now, 'curfew_sso_sessions_live')).toBe(1);
    expect(sample(now, 'curfew_rp_sessions_live')).toBe(1);
    expect(sample(now, 'curfew_store_call_duration_seconds_count', { operation: 'sessions.login', outcome: 'ok' })).toBeGreaterThan(0);

    expect(tokens.refresh_token).toBeDefined();
    await oidc.refreshTokenGrant(rp, tokens.refresh_token!);
    now = await scrape();
    expect(sample(now, 'curfew_enforcement_decisions_total', { endpoint: '/token', outcome: 'alive' })).toBeGreaterThan(0);

    // Past the idle deadline: the sweeper has a backlog until it ticks.
    await h.clock.set(t0 + 15 * MIN + 2_000);
    now = await scrape();
    expect(sample(now, 'curfew_sweeper_backlog')).toBe(1);
    expect(sample(now, 'curfew_sweeper_backlog_oldest_age_seconds')).toBeGreaterThanOrEqual(1);
    await h.curfew.sweeper.tick();
    now = await scrape();
    expect(sample(now, 'curfew_sweeper_backlog')).toBe(0);
    expect(sample(now, 'curfew_sso_sessions_live')).toBe(0);
    expect(sample(now, 'curfew_rp_sessions_live')).toBe(0);
    expect(sample(now, 'curfew_sessions_ended_total', { scope: 'sso', reason: 'idle' })).toBe(1);
    expect(sample(now, 'curfew_session_end_lateness_seconds_count', { scope: 'sso' })).toBe(1);
    expect(sample(now, 'curfew_session_end_lateness_seconds_sum', { scope: 'sso' })).toBeGreaterThanOrEqual(1);
    expect(sample(now, 'curfew_delivery_queue_depth')).toBe(1);
    expect(sample(now, 'curfew_delivery_queue_due')).toBe(1);

    await h.curfew.sender.tick();
    expect(receiver.received.map((r) => r.client)).toEqual(['acme-app']);
    now = await scrape();
    expect(sample(now, 'curfew_backchannel_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(sample(now, 'curfew_delivery_queue_depth')).toBe(0);
    expect(sample(now, 'curfew_dead_letters')).toBe(0);

    // Someone guessing carol's password: the account's limit refuses the fourth guess.
    const guesser = h.userAgent();
    let guess = await guesser.navigate((await authorizationUrl(rp)).url.href);
    for (let i = 0; i < 4; i++) guess = await guesser.submit(guess, '/login', { username: 'carol', password: `guess ${i}` });
    now = await scrape();
    expect(sample(now, 'curfew_sign_ins_total', { outcome: 'invalid_credentials' })).toBe(4);
    expect(sample(now, 'curfew_sign_ins_total', { outcome: 'rate_limited' })).toBe(1);
    expect(sample(now, 'curfew_lockout_refusals_total', { limit: 'account' })).toBe(1);

    // The browser comes back to /auth with its ended session: the check there finds it gone.
    await ua.navigate((await authorizationUrl(rp)).url.href);
    now = await scrape();
    const atAuth = (outcome: string) => sample(now, 'curfew_enforcement_decisions_total', { endpoint: '/auth', outcome });
    expect(atAuth('dead') + atAuth('missing')).toBe(1);
    expect(atAuth('alive')).toBe(0);
    // No label carries an id: every label value of the new series comes from a small fixed set.
    expect(now).not.toContain(tokens.refresh_token!);
  });
});

describe('the store-unreachable signal', () => {
  let proxy: TcpProxy;
  let h: Harness;
  beforeAll(async () => {
    const upstream = new URL(REDIS_URL);
    proxy = new TcpProxy({ host: upstream.hostname, port: Number(upstream.port || 6379) });
    const port = await proxy.start();
    h = await startCurfew('redis', { redis: { url: `redis://127.0.0.1:${port}`, commandTimeoutMs: 300 } });
  });
  afterAll(async () => {
    proxy?.thaw();
    await h?.close();
    await proxy?.close();
  });

  it('scrapes within a second while Redis is frozen: store down, unavailable calls counted; up again after', async () => {
    const scrape = async () => (await fetch(`${h.url}/metrics`)).text();
    expect(sample(await scrape(), 'curfew_store_up')).toBe(1);
    proxy.freeze();
    const app = `Basic ${Buffer.from('acme-app:acme-app-secret-0123456789').toString('base64')}`;
    expect((await fetch(`${h.url}/session/status?sid=x`, { headers: { authorization: app } })).status).toBe(503);
    const started = Date.now();
    const during = await scrape();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(sample(during, 'curfew_store_up')).toBe(0);
    expect(sample(during, 'curfew_store_call_duration_seconds_count', { outcome: 'unavailable' })).toBeGreaterThan(0);
    proxy.thaw();
    let up = 0;
    for (let i = 0; i < 50 && up !== 1; i++) {
      up = sample(await scrape(), 'curfew_store_up');
      if (up !== 1) await new Promise((r) => setTimeout(r, 100));
    }
    expect(up).toBe(1);
  });
});

describe.each(STORE_KINDS)('the live RP-session gauge (%s store)', (kind) => {
  let h: Harness;
  beforeEach(async () => {
    h = await startCurfew(kind);
  });
  afterEach(async () => {
    await h?.close();
  });
  const live = async () => {
    const scrape = await (await fetch(`${h.url}/metrics`)).text();
    return { sso: sample(scrape, 'curfew_sso_sessions_live'), rp: sample(scrape, 'curfew_rp_sessions_live') };
  };

  it('counts each RP session of an SSO session, and drops one as it ends, then the rest with the SSO session', async () => {
    const ua = h.userAgent();
    await signIn(h, ua, 'acme-app', 'alice');
    await signIn(h, ua, 'acme-other', 'alice');
    await signIn(h, h.userAgent(), 'globex-app', 'carol');
    expect(await live()).toEqual({ sso: 2, rp: 3 });

    const [key] = await h.store.sessions.keysOfOrg('acme');
    const uid = (await h.store.sessions.get(key!))!.id;
    await h.curfew.sessions.endRp(uid, 'acme-other', 'admin');
    expect(await live()).toEqual({ sso: 2, rp: 2 });
    await h.curfew.sessions.end(uid, 'admin');
    expect(await live()).toEqual({ sso: 1, rp: 1 });
  });
});
