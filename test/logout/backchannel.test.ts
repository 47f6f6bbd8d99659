import * as oidc from 'openid-client';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parseSeed, SeedError } from '../../src/provisioning/seed.ts';
import { BACKCHANNEL_EVENT } from '../../src/logout/logout-token.ts';
import { RP_LOGGED_OUT, signIn, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';
import { RpReceiver } from '../support/rp-receiver.ts';

const MIN = 60_000;

/** acme-app and acme-other receive logout tokens; acme-partner registered none. */
function seed(receiver: RpReceiver, policy: Record<string, unknown> = {}) {
  const s = testSeed();
  s.orgs[0]!.policy = {
    idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'off',
    rules: [{ name: 'other-app', match: { clients: ['acme-other'] }, idleTimeoutSeconds: 120 }],
    ...policy,
  } as typeof s.orgs[0]['policy'];
  for (const client of s.orgs[0]!.clients as Array<Record<string, unknown>>) {
    if (client.client_id === 'acme-app' || client.client_id === 'acme-other') client.backchannel_logout_uri = receiver.uri(String(client.client_id));
  }
  return s;
}

describe.each(STORE_KINDS)('back-channel logout (%s store)', (kind) => {
  let h: Harness;
  let rp: RpReceiver;
  beforeEach(async () => {
    rp = new RpReceiver();
    await rp.start();
    h = await startCurfew(kind, { seed: seed(rp), config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });
    rp.trust(h.url, `${h.url}/jwks`);
  });
  afterEach(async () => {
    await h?.close();
    await rp?.close();
  });

  /** Alice signed in to both RPs that receive logout tokens, and the one that does not. */
  async function signInEverywhere() {
    const ua = h.userAgent();
    const app = await signIn(h, ua, 'acme-app', 'alice');
    const other = await signIn(h, ua, 'acme-other', 'alice');
    await signIn(h, ua, 'acme-partner', 'alice');
    return { ua, app, other };
  }

  const delivered = () => rp.received.map((r) => ({ client: r.client, sid: r.payload.sid, sub: r.payload.sub })).sort((a, b) => a.client.localeCompare(b.client));
  const flush = async () => {
    await h.curfew.sweeper.tick();
    await h.curfew.sender.tick();
  };

  it('RP-initiated logout reaches every RP of the session, with its sid and sub', async () => {
    const { ua, app, other } = await signInEverywhere();
    const confirm = await ua.navigate(oidc.buildEndSessionUrl(await h.rp('acme-app'), { id_token_hint: app.tokens.id_token!, post_logout_redirect_uri: RP_LOGGED_OUT }).href);
    await ua.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    await flush();
    expect(delivered()).toEqual([
      { client: 'acme-app', sid: app.claims.sid, sub: app.claims.sub },
      { client: 'acme-other', sid: other.claims.sid, sub: app.claims.sub },
    ]);
    expect(rp.rejected).toEqual([]);
  });

  it('puts exactly the claims of OIDC Back-Channel Logout 1.0 in the token', async () => {
    const { app } = await signInEverywhere();
    await h.curfew.sessions.end((await h.store.sessions.get((await h.store.sessions.keysOfOrg('acme'))[0]!))!.id, 'admin');
    await flush();
    const token = rp.received.find((r) => r.client === 'acme-app')!;
    expect(token.header).toMatchObject({ typ: 'logout+jwt', alg: 'RS256', kid: expect.any(String) });
    expect(Object.keys(token.payload).sort()).toEqual(['aud', 'events', 'exp', 'iat', 'iss', 'jti', 'sid', 'sub']);
    expect(token.payload).toMatchObject({ iss: h.url, aud: 'acme-app', sub: app.claims.sub, sid: app.claims.sid, events: { [BACKCHANNEL_EVENT]: {} } });
    expect(token.payload.nonce).toBeUndefined();
    expect(token.payload.exp! - token.payload.iat!).toBe(120);
    expect(new Set(rp.received.map((r) => r.payload.jti)).size).toBe(rp.received.length);
  });

  it('an SSO idle expiry reaches every RP; an RP\'s own expiry only that RP', async () => {
    const t0 = await h.clock.now();
    const { app, other } = await signInEverywhere();
    await h.clock.set(t0 + 2 * MIN - 1);
    await flush();
    expect(rp.received).toEqual([]);
    await h.clock.set(t0 + 2 * MIN);
    await flush();
    expect(delivered()).toEqual([{ client: 'acme-other', sid: other.claims.sid, sub: other.claims.sub }]);

    await h.clock.set(t0 + 15 * MIN);
    await flush();
    expect(delivered()).toEqual([
      { client: 'acme-app', sid: app.claims.sid, sub: app.claims.sub },
      { client: 'acme-other', sid: other.claims.sid, sub: other.claims.sub },
    ]);
    const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 5 })).items.map((e) => [e.data?.scope, e.data?.reason]);
    expect(ended).toEqual([['sso', 'idle'], ['rp', 'idle']]);
  });

  it('admin revocation, disabling a user and a policy change each deliver', async () => {
    const one = await signInEverywhere();
    const [key] = await h.store.sessions.keysOfOrg('acme');
    await h.curfew.sessions.end((await h.store.sessions.get(key!))!.id, 'admin');
    await flush();
    expect(rp.received.map((r) => r.payload.sid).sort()).toEqual([one.app.claims.sid, one.other.claims.sid].sort());

    const two = await signInEverywhere();
    await h.curfew.disableUser(two.app.claims.sub);
    await flush();
    expect(rp.received.filter((r) => r.payload.sid === two.app.claims.sid)).toHaveLength(1);
    await h.store.directory.putUser({ ...(await h.store.directory.getUser(two.app.claims.sub))!, disabled: false });

    const t = await h.clock.now();
    const three = await signInEverywhere();
    await h.clock.set(t + 10 * MIN);
    const org = (await h.store.directory.getOrg('acme'))!;
    await h.curfew.changePolicy('acme', { ...org.policy, idleTimeoutSeconds: 300 }, 'test');
    await flush();
    expect(rp.received.filter((r) => r.payload.sid === three.app.claims.sid)).toHaveLength(1);
    const reasons = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 10 })).items.map((e) => e.data?.reason);
    expect(reasons).toEqual(expect.arrayContaining(['admin', 'user_disabled', 'policy']));
  });

  it('retries an RP that is down and delivers once it is back', async () => {
    await signInEverywhere();
    rp.behaviour.set('acme-app', 503);
    await h.curfew.sessions.end((await h.store.sessions.get((await h.store.sessions.keysOfOrg('acme'))[0]!))!.id, 'admin');
    await flush();
    expect(rp.received.map((r) => r.client)).toEqual(['acme-other']);
    const [pending] = await h.store.deliveries.list('acme', 'pending');
    expect(pending).toMatchObject({ client: 'acme-app', attempts: 1, lastError: 'HTTP 503' });
    // Backoff: not before its time.
    await h.curfew.sender.tick();
    expect(rp.requests).toBe(2);
    rp.behaviour.delete('acme-app');
    await h.clock.advance(1_001);
    await h.curfew.sender.tick();
    expect(rp.received.map((r) => r.client).sort()).toEqual(['acme-app', 'acme-other']);
    expect(await h.store.deliveries.list('acme', 'pending')).toEqual([]);
    const audit = (await h.store.audit.query({ org: 'acme', limit: 20 })).items.map((e) => e.type);
    expect(audit).toEqual(expect.arrayContaining(['backchannel.retrying', 'backchannel.delivered']));
  });

  it('dead-letters at once on a 400, keeps the error, and an admin retry delivers it', async () => {
    await signInEverywhere();
    rp.behaviour.set('acme-app', 400);
    await h.curfew.sessions.end((await h.store.sessions.get((await h.store.sessions.keysOfOrg('acme'))[0]!))!.id, 'admin');
    await flush();
    const [dead] = await h.store.deliveries.list('acme', 'dead');
    expect(dead).toMatchObject({ client: 'acme-app', attempts: 1, state: 'dead', lastError: 'HTTP 400' });
    expect((await h.store.audit.query({ org: 'acme', type: 'backchannel.dead', limit: 1 })).items[0]?.data).toMatchObject({ error: 'HTTP 400' });
    rp.behaviour.delete('acme-app');
    expect(await h.store.deliveries.revive(dead!.id)).toBe(true);
    await h.clock.advance(1);
    await h.curfew.sender.tick();
    expect(rp.received.map((r) => r.client).sort()).toEqual(['acme-app', 'acme-other']);
  });

  it('dead-letters after the last attempt', async () => {
    await signInEverywhere();
    rp.behaviour.set('acme-app', 500);
    await h.curfew.sessions.end((await h.store.sessions.get((await h.store.sessions.keysOfOrg('acme'))[0]!))!.id, 'admin');
    for (let i = 0; i < h.config.backchannel.maxAttempts; i++) {
      await h.curfew.sender.tick();
      await h.clock.advance(h.config.backchannel.maxDelayMs);
    }
    const [dead] = await h.store.deliveries.list('acme', 'dead');
    expect(dead).toMatchObject({ attempts: h.config.backchannel.maxAttempts, lastError: 'HTTP 500' });
  });

  it('refuses to deliver to a loopback URI that is not allow-listed', async () => {
    await signInEverywhere();
    const client = (await h.store.directory.getClient('acme-app'))!;
    await h.store.directory.putClient({ ...client, backchannel_logout_uri: 'http://localhost:9/bcl' });
    await h.curfew.sessions.end((await h.store.sessions.get((await h.store.sessions.keysOfOrg('acme'))[0]!))!.id, 'admin');
    await flush();
    const [dead] = await h.store.deliveries.list('acme', 'dead');
    expect(dead?.lastError).toMatch(/must be https|allow-listed/);
  });
});

describe('back-channel logout timing (redis store)', () => {
  it('delivers an idle expiry within 1 s of its deadline with the workers running', async () => {
    const rp = new RpReceiver();
    await rp.start();
    const h = await startCurfew('redis', { seed: seed(rp), config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });
    rp.trust(h.url, `${h.url}/jwks`);
    try {
      const t0 = await h.clock.now();
      await signIn(h, h.userAgent(), 'acme-app', 'alice');
      h.curfew.startWorkers();
      await h.clock.set(t0 + 15 * MIN);
      const reached = Date.now();
      await rp.waitFor(() => rp.received.length === 1, 3_000);
      expect(rp.received[0]!.receivedAt - reached).toBeLessThan(1_000);
      // The sender records the lag right after the RP answered.
      let metrics = '';
      for (let i = 0; i < 20 && !/lag_seconds_count\{stage="delivered"\} 1/.test(metrics); i++) {
        metrics = await (await fetch(`${h.url}/metrics`)).text();
        await new Promise((r) => setTimeout(r, 25));
      }
      expect(metrics).toMatch(/curfew_backchannel_lag_seconds_count\{stage="delivered"\} 1/);
    } finally {
      await h.close();
      await rp.close();
    }
  });
});

describe('back-channel logout: an end reaches its instance\'s sender at once (redis store)', () => {
  it('delivers a logout token queued after the sender went idle without waiting for its poll', async () => {
    const rp = new RpReceiver();
    await rp.start();
    // Both workers poll once a minute: within the few seconds below, only a wake explains a delivery.
    const h = await startCurfew('redis', { seed: seed(rp), config: { 'backchannel.allowlist': ['http://127.0.0.1:*'], 'backchannel.tickMs': 60_000, 'sweeper.tickMs': 60_000 } });
    rp.trust(h.url, `${h.url}/jwks`);
    try {
      await signIn(h, h.userAgent(), 'acme-app', 'alice');
      await signIn(h, h.userAgent(), 'acme-app', 'bob');
      const [first, second] = await Promise.all((await h.store.sessions.keysOfOrg('acme')).map(async (k) => (await h.store.sessions.get(k))!.id));
      h.curfew.startWorkers();
      await h.curfew.sessions.end(first!, 'admin');
      // Delivered by the sender's first tick or by a wake: either way that first tick is behind it.
      await rp.waitFor(() => rp.received.length === 1, 5_000);
      await h.curfew.sessions.end(second!, 'admin');
      await rp.waitFor(() => rp.received.length === 2, 5_000);
      expect(rp.received.map((r) => r.payload.sub)).toHaveLength(2);
    } finally {
      await h.close();
      await rp.close();
    }
  });
});

describe('registration of back-channel URIs', () => {
  const withUri = (uri: string) => {
    const s = testSeed();
    (s.orgs[0]!.clients[0] as Record<string, unknown>).backchannel_logout_uri = uri;
    return s;
  };
  it.each(['http://127.0.0.1:8090/bcl', 'https://127.0.0.1/bcl', 'https://10.1.2.3/bcl', 'https://[::1]/bcl', 'https://localhost/bcl', 'http://rp.example/bcl'])(
    'refuses %s unless allow-listed',
    (uri) => {
      expect(() => parseSeed(withUri(uri))).toThrow(SeedError);
    },
  );
  it('accepts an allow-listed loopback origin and public https', () => {
    expect(() => parseSeed(withUri('http://127.0.0.1:8090/bcl'), 'x', ['http://127.0.0.1:8090'])).not.toThrow();
    expect(() => parseSeed(withUri('http://127.0.0.1:9999/bcl'), 'x', ['http://127.0.0.1:*'])).not.toThrow();
    expect(() => parseSeed(withUri('http://127.0.0.1:9999/bcl'), 'x', ['http://127.0.0.1:8090'])).toThrow(SeedError);
    expect(() => parseSeed(withUri('https://rp.example/bcl'))).not.toThrow();
  });
});

