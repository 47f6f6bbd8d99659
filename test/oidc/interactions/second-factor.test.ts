import * as oidc from 'openid-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/mfa/totp.ts';
import { authorizationUrl, completeSignIn, PASSWORDS, startCurfew, STORE_KINDS, testSeed, type Harness } from '../../support/curfew.ts';
import type { Page, UserAgent } from '../../support/user-agent.ts';

const MIN = 60_000;
const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const MFA = 'urn:curfew:acr:mfa';

/** Idle (5 min) shorter than a sign-in page's life (10 min), so a page can outlive its session. */
function seed() {
  const s = testSeed();
  s.orgs[0]!.policy = { idleTimeoutSeconds: 300, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'reentry' } as typeof s.orgs[0]['policy'];
  (s.orgs[0]!.users.find((u) => u.username === 'bob')! as Record<string, unknown>).totpSecret = BOB_SECRET;
  return s;
}

const hasForm = (page: Page, suffix: string) => new RegExp(`action="[^"]*${suffix}"`).test(page.html);

describe.each(STORE_KINDS)('deadlines around the second factor (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function begin(ua: UserAgent, client: string, extra: Record<string, string> = {}) {
    const rp = await h!.rp(client);
    const request = await authorizationUrl(rp, extra);
    return { rp, request, page: await ua.navigate(request.url.href) };
  }

  async function finish(flow: { rp: oidc.Configuration; request: Awaited<ReturnType<typeof authorizationUrl>> }, page: Page & { leftTo?: string }) {
    expect(page.leftTo, `${page.status} ${page.html.replace(/[\s\S]*<main/, "").slice(0, 600)}`).toBeDefined();
    return completeSignIn(flow.rp, page.leftTo!, flow.request);
  }

  async function nextCode(): Promise<string> {
    h!.totp.advance(30_000);
    return totpCode(BOB_SECRET, h!.totp.now());
  }

  /** The SSO session's idle deadline, by the shared clock (the absolute one is far later here). */
  async function idleDeadline(sub: string): Promise<number> {
    const sessions = await Promise.all((await h!.store.sessions.keysOfUser(sub)).map((k) => h!.store.sessions.get(k)));
    const live = sessions.filter((s) => s !== undefined);
    expect(live).toHaveLength(1);
    return live[0]!.lastActiveAt + live[0]!.idleSeconds * 1000;
  }

  /** bob signs in with his password, then an RP asks to step up: the code page, no password form. */
  async function openStepUp() {
    const t0 = await h!.clock.now();
    const ua = h!.userAgent();
    const first = await begin(ua, 'acme-app');
    const signed = await finish(first, await ua.submit(first.page, '/login', { username: 'bob', password: PASSWORDS.bob }));
    expect(signed.claims.acr).toBe('urn:curfew:acr:pwd');
    await h!.clock.set(t0 + 2 * MIN);
    const stepUp = await begin(ua, 'acme-app', { acr_values: MFA });
    expect(hasForm(stepUp.page, '/totp')).toBe(true);
    expect(hasForm(stepUp.page, '/login')).toBe(false);
    return { ua, signed, stepUp, deadline: await idleDeadline(signed.claims.sub) };
  }

  describe('a step-up page that skipped the password', () => {
    it('signs in with the code 1 ms before the session\'s idle deadline, in the same session', async () => {
      h = await startCurfew(kind, { seed: seed() });
      const { ua, signed, stepUp, deadline } = await openStepUp();
      await h.clock.set(deadline - 1);
      const { claims } = await finish(stepUp, await ua.submit(stepUp.page, '/totp', { code: await nextCode() }));
      expect(claims.acr).toBe(MFA);
      expect(claims.sid).toBe(signed.claims.sid);
    });

    it('at the idle deadline refuses the code alone and starts over at the password form', async () => {
      h = await startCurfew(kind, { seed: seed() });
      const { ua, signed, stepUp, deadline } = await openStepUp();
      await h.clock.set(deadline);
      const back = await ua.submit(stepUp.page, '/totp', { code: await nextCode() });
      expect(back.leftTo).toBeUndefined();
      expect(hasForm(back, '/login'), back.html.replace(/[\s\S]*<main/, '').slice(0, 600)).toBe(true);
      expect(hasForm(back, '/totp')).toBe(false);
      expect((await h.store.audit.query({ org: 'acme', type: 'mfa.succeeded', limit: 5 })).items).toHaveLength(0);

      // The password, then (the session having timed out) a code: a new session.
      const askCode = await ua.submit(back, '/login', { username: 'bob', password: PASSWORDS.bob });
      expect(hasForm(askCode, '/totp'), `${askCode.status} ${askCode.leftTo} ${askCode.html.replace(/[\s\S]*<main/, '').slice(0, 500)}`).toBe(true);
      const { claims } = await finish(stepUp, await ua.submit(askCode, '/totp', { code: await nextCode() }));
      expect(claims.amr).toEqual(['pwd', 'otp']);
      expect(claims.sid).not.toBe(signed.claims.sid);
    });

    it('a step-up request made after the deadline asks for the password', async () => {
      h = await startCurfew(kind, { seed: seed() });
      const { ua, deadline, stepUp } = await openStepUp();
      await h.clock.set(deadline);
      const again = await ua.navigate(stepUp.request.url.href);
      expect(hasForm(again, '/login')).toBe(true);
      expect(hasForm(again, '/totp')).toBe(false);
    });
  });

  describe('a password-only sign-in submitted just after another session\'s idle deadline, before any sweep', () => {
    async function signedInElsewhere() {
      const ua = h!.userAgent();
      const first = await begin(ua, 'acme-app');
      const signed = await finish(first, await ua.submit(first.page, '/login', { username: 'bob', password: PASSWORDS.bob }));
      const deadline = await idleDeadline(signed.claims.sub);
      // Another browser opens the sign-in page while that session is still alive.
      await h!.clock.set(deadline - MIN);
      const laptop = h!.userAgent();
      const flow = await begin(laptop, 'acme-other');
      expect(hasForm(flow.page, '/login')).toBe(true);
      return { laptop, flow, deadline };
    }

    it('needs no code 1 ms before the deadline', async () => {
      h = await startCurfew(kind, { seed: seed() });
      const { laptop, flow, deadline } = await signedInElsewhere();
      await h.clock.set(deadline - 1);
      const { claims } = await finish(flow, await laptop.submit(flow.page, '/login', { username: 'bob', password: PASSWORDS.bob }));
      expect(claims.amr).toEqual(['pwd']);
    });

    it('asks for TOTP at the deadline', async () => {
      h = await startCurfew(kind, { seed: seed() });
      const { laptop, flow, deadline } = await signedInElsewhere();
      await h.clock.set(deadline);
      const askCode = await laptop.submit(flow.page, '/login', { username: 'bob', password: PASSWORDS.bob });
      expect(askCode.leftTo).toBeUndefined();
      expect(hasForm(askCode, '/totp')).toBe(true);
      const { claims } = await finish(flow, await laptop.submit(askCode, '/totp', { code: await nextCode() }));
      expect(claims.amr).toEqual(['pwd', 'otp']);
      const ended = (await h.store.audit.query({ org: 'acme', type: 'session.ended', limit: 5 })).items;
      expect(ended.map((e) => e.data?.reason)).toContain('idle');
    });
  });
});

/** Each second-factor form acts only at its own stage of the sign-in (pendingFor's guards). */
describe('the second-factor forms at the wrong stage (memory store, mfa: always)', () => {
  let h: Harness;
  beforeAll(async () => {
    const s = testSeed();
    s.orgs[0]!.policy = { ...s.orgs[0]!.policy, mfa: 'always' };
    h = await startCurfew('memory', { seed: s });
  });
  afterAll(async () => {
    await h?.close();
  });

  async function loginPage(ua: UserAgent) {
    const rp = await h.rp('acme-app');
    const request = await authorizationUrl(rp);
    return { rp, request, page: await ua.navigate(request.url.href) };
  }
  const csrfOf = (page: Page) => /name="csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? '';
  /** Posts the interaction's `stage` form directly, as a browser replaying an old page would. */
  const post = (ua: UserAgent, page: Page, stage: string, fields: Record<string, string>) =>
    ua.navigate(`${page.url.replace(/\/interaction\/([^/]+).*$/, '/interaction/$1')}/${stage}`, { form: fields });

  it('a code posted before the password goes back to the password form', async () => {
    const ua = h.userAgent();
    const { page } = await loginPage(ua);
    const back = await post(ua, page, 'totp', { csrf: csrfOf(page), code: '123456' });
    expect(back.status).toBe(200);
    expect(hasForm(back, '/login')).toBe(true);
  });

  it('a code or a continue posted while enrolling goes back to the enrollment page, which still works', async () => {
    const ua = h.userAgent();
    const { rp, request, page } = await loginPage(ua);
    const enroll = await ua.submit(page, '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(hasForm(enroll, '/enroll')).toBe(true);
    for (const stage of ['totp', 'continue']) {
      const back = await post(ua, enroll, stage, { csrf: csrfOf(enroll), code: '123456' });
      expect(hasForm(back, '/enroll'), stage).toBe(true);
    }
    const forged = await post(ua, enroll, 'enroll', { code: '123456' });
    expect(forged.status).toBe(403);

    const secret = /<code id="secret">([^<]+)<\/code>/.exec(enroll.html)![1]!.replace(/\s/g, '');
    h.totp.advance(30_000);
    const codes = await ua.submit(enroll, '/enroll', { code: await totpCode(secret, h.totp.now()) });
    expect(codes.html).toContain('Save your recovery codes');

    // A reload never shows the recovery codes again: it only offers to continue.
    const reloaded = await ua.navigate(page.url);
    expect(hasForm(reloaded, '/continue')).toBe(true);
    expect(reloaded.html).not.toMatch(/<li><code>[A-Z0-9]{5}-[A-Z0-9]{5}<\/code><\/li>/);
    const { claims } = await completeSignIn(rp, (await ua.submit(reloaded, '/continue')).leftTo!, request);
    expect(claims.acr).toBe(MFA);
    expect(claims.amr).toEqual(['pwd', 'otp']);
  });
});
