import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import type { Policy } from '../../src/sessions/policy-types.ts';
import { signIn, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';

const MIN = 60_000;

/** 15 min idle; acme-app's refreshes are its user's activity (a client rule); the org's are not. */
const POLICY = {
  idleTimeoutSeconds: 900,
  absoluteTimeoutSeconds: 7200,
  warningSeconds: 60,
  mfa: 'off',
  refreshIsActivity: false,
  rules: [{ name: 'apache-refreshes', match: { clients: ['acme-app'] }, refreshIsActivity: true }],
  ceilings: { idleTimeoutSeconds: 3600, absoluteTimeoutSeconds: 86400 },
};

describe.each(STORE_KINDS)('per-client refreshIsActivity over HTTP (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function start() {
    const seed = testSeed();
    seed.orgs[0]!.policy = POLICY as typeof seed.orgs[0]['policy'];
    h = await startCurfew(kind, { seed });
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    const app = await signIn(h, ua, 'acme-app', 'alice');
    const other = await signIn(h, ua, 'acme-other', 'alice');
    return { h, t0, app, other, sessionUid: await uidOf(h, app.claims.sid as string) };
  }

  async function uidOf(harness: Harness, sid: string): Promise<string> {
    const [session] = await harness.curfew.sessions.list('acme', {});
    if (!session || session.rps['acme-app']?.sid !== sid) throw new Error('session not found');
    return session.id;
  }

  it('a refresh of the client with the rule moves its lastActiveAt; another client\'s refresh does not', async () => {
    const { h, t0, app, other, sessionUid } = await start();
    await h.clock.set(t0 + 10 * MIN);
    await oidc.refreshTokenGrant(await h.rp('acme-app'), app.tokens.refresh_token!);
    await oidc.refreshTokenGrant(await h.rp('acme-other'), other.tokens.refresh_token!);
    const session = (await h.curfew.sessions.get(sessionUid))!;
    expect(session.rps['acme-app']).toMatchObject({ lastActiveAt: t0 + 10 * MIN, refreshIsActivity: true });
    expect(session.rps['acme-other']?.lastActiveAt).toBeLessThan(t0 + MIN);
    expect(session.rps['acme-other']?.refreshIsActivity).toBe(false);
  });

  it('keeps the refreshing client alive past the idle limit, to the millisecond; the other dies at its deadline', async () => {
    const { h, app, other } = await start();
    const appRp = await h.rp('acme-app');
    const otherRp = await h.rp('acme-other');
    const appStarted = (await h.curfew.sessions.list('acme'))[0]!.rps['acme-app']!.lastActiveAt;
    const otherStarted = (await h.curfew.sessions.list('acme'))[0]!.rps['acme-other']!.lastActiveAt;
    // 1 ms before acme-app's idle deadline: alive, and the refresh moves the deadline.
    await h.clock.set(appStarted + 15 * MIN - 1);
    const refreshed = await oidc.refreshTokenGrant(appRp, app.tokens.refresh_token!);
    // acme-other was never active since sign-in: dead at its own deadline, though the SSO session lives on.
    await h.clock.set(otherStarted + 15 * MIN);
    await expect(oidc.refreshTokenGrant(otherRp, other.tokens.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
    // The moved deadline: alive 1 ms before it, dead at it.
    const deadline = appStarted + 30 * MIN - 1;
    await h.clock.set(deadline - 1);
    const again = await oidc.refreshTokenGrant(appRp, refreshed.refresh_token!);
    await h.clock.set(deadline - 1 + 15 * MIN);
    await expect(oidc.refreshTokenGrant(appRp, again.refresh_token!)).rejects.toMatchObject({ error: 'invalid_grant' });
  });

  it('a policy change recomputes the RP session\'s value at once', async () => {
    const { h, t0, app, sessionUid } = await start();
    const org = (await h.store.directory.getOrg('acme'))!;
    await h.curfew.changePolicy('acme', { ...org.policy, rules: [] } as Policy, 'test');
    expect((await h.curfew.sessions.get(sessionUid))!.rps['acme-app']?.refreshIsActivity).toBe(false);
    await h.clock.set(t0 + 10 * MIN);
    await oidc.refreshTokenGrant(await h.rp('acme-app'), app.tokens.refresh_token!);
    expect((await h.curfew.sessions.get(sessionUid))!.rps['acme-app']!.lastActiveAt).toBeLessThan(t0 + MIN);
    await h.curfew.changePolicy('acme', { ...org.policy, refreshIsActivity: true, rules: [{ name: 'spa', match: { clients: ['acme-other'] }, refreshIsActivity: false }] } as Policy, 'test');
    const session = (await h.curfew.sessions.get(sessionUid))!;
    expect(session.rps['acme-app']?.refreshIsActivity).toBe(true);
    expect(session.rps['acme-other']?.refreshIsActivity).toBe(false);
  });
});
