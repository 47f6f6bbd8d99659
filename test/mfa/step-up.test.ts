import * as oidc from 'openid-client';
import { afterEach, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/mfa/totp.ts';
import { authorizationUrl, completeSignIn, PASSWORDS, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';
import type { Page, UserAgent } from '../support/user-agent.ts';

const MIN = 60_000;
const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const MFA = 'urn:curfew:acr:mfa';

function seed(policy: Record<string, unknown> = {}) {
  const s = testSeed();
  s.orgs[0]!.policy = {
    idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'reentry',
    rules: [{ name: 'other-app', match: { clients: ['acme-other'] }, idleTimeoutSeconds: 120 }],
    ...policy,
  } as typeof s.orgs[0]['policy'];
  const bob = s.orgs[0]!.users.find((u) => u.username === 'bob')! as Record<string, unknown>;
  bob.totpSecret = BOB_SECRET;
  return s;
}

const hasForm = (page: Page, suffix: string) => new RegExp(`action="[^"]*${suffix}"`).test(page.html);

describe.each(STORE_KINDS)('TOTP and step-up (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function start(policy?: Record<string, unknown>) {
    h = await startCurfew(kind, { seed: seed(policy) });
    return h;
  }

  /** The next authenticator code: the TOTP clock moves one step so no code repeats. */
  async function nextCode(secret: string): Promise<string> {
    h!.totp.advance(30_000);
    return totpCode(secret, h!.totp.now());
  }

  /** Starts an authorization and walks the pages; returns where it stands. */
  async function begin(ua: UserAgent, client: string, extra: Record<string, string> = {}) {
    const rp = await h!.rp(client);
    const request = await authorizationUrl(rp, extra);
    const page = await ua.navigate(request.url.href);
    return { rp, request, page };
  }

  async function password(ua: UserAgent, page: Page, username: keyof typeof PASSWORDS) {
    return ua.submit(page, '/login', { username, password: PASSWORDS[username] });
  }

  async function finish(flow: { rp: oidc.Configuration; request: Awaited<ReturnType<typeof authorizationUrl>> }, page: Page & { leftTo?: string }) {
    expect(page.leftTo, page.html.slice(0, 300)).toBeDefined();
    return completeSignIn(flow.rp, page.leftTo!, flow.request);
  }

  it('enrolls at the first sign-in; a normal later sign-in needs no code', async () => {
    const h = await start();
    const ua = h.userAgent();
    const flow = await begin(ua, 'acme-app');
    const enroll = await password(ua, flow.page, 'alice');
    expect(enroll.html).toContain('Set up two-step sign-in');
    expect(enroll.html).toMatch(/<img src="data:image\/png;base64,[^"]+" alt="QR code/);
    const secret = /<code id="secret">([^<]+)<\/code>/.exec(enroll.html)![1]!.replace(/\s/g, '');
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    const wrong = await ua.submit(enroll, '/enroll', { code: '000000' });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('That code is not valid');
    const codes = await ua.submit(wrong, '/enroll', { code: await nextCode(secret) });
    expect(codes.html).toContain('Save your recovery codes');
    expect([...codes.html.matchAll(/<li><code>([A-Z0-9]{5}-[A-Z0-9]{5})<\/code><\/li>/g)]).toHaveLength(10);
    const done = await ua.submit(codes, '/continue');
    const { claims } = await finish(flow, done);
    expect(claims.acr).toBe(MFA);
    expect(claims.amr).toEqual(['pwd', 'otp']);
    expect(await h.curfew.mfa.isEnrolled(claims.sub)).toBe(true);

    const other = h.userAgent();
    const later = await begin(other, 'acme-app');
    const signedIn = await finish(later, await password(other, later.page, 'alice'));
    expect(signedIn.claims.acr).toBe('urn:curfew:acr:pwd');
    expect(signedIn.claims.amr).toEqual(['pwd']);
  });

  it('requires TOTP after an idle timeout, on any device, until a TOTP sign-in succeeds', async () => {
    const h = await start();
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    const first = await begin(ua, 'acme-app');
    const signed = await finish(first, await password(ua, first.page, 'bob'));
    expect(signed.claims.acr).toBe('urn:curfew:acr:pwd');

    await h.clock.set(t0 + 15 * MIN);
    const silent = await begin(ua, 'acme-app', { prompt: 'none' });
    expect(new URL(silent.page.leftTo!).searchParams.get('error')).toBe('login_required');

    // Another device: the requirement belongs to the account.
    const laptop = h.userAgent();
    const onLaptop = await begin(laptop, 'acme-other');
    const askCode = await password(laptop, onLaptop.page, 'bob');
    expect(hasForm(askCode, '/totp')).toBe(true);
    const steppedUp = await finish(onLaptop, await laptop.submit(askCode, '/totp', { code: await nextCode(BOB_SECRET) }));
    expect(steppedUp.claims.acr).toBe(MFA);
    expect(steppedUp.claims.amr).toEqual(['pwd', 'otp']);

    // Once passed, the requirement is gone: the first browser signs in with a password again.
    const again = await begin(ua, 'acme-app');
    const withPassword = await finish(again, await password(ua, again.page, 'bob'));
    expect(withPassword.claims.acr).toBe('urn:curfew:acr:pwd');

    const events = (await h.store.audit.query({ org: 'acme', limit: 50 })).items.map((e) => e.type);
    expect(events).toEqual(expect.arrayContaining(['mfa.required', 'mfa.succeeded', 'session.ended']));
  });

  it('requires TOTP after an admin revokes the user\'s sessions, and nothing after the user\'s own logout', async () => {
    const h = await start();
    const ua = h.userAgent();
    const flow = await begin(ua, 'acme-app');
    const signed = await finish(flow, await password(ua, flow.page, 'bob'));
    await h.curfew.sessions.endUserSessions(signed.claims.sub, 'admin');
    const browser = h.userAgent();
    const again = await begin(browser, 'acme-app');
    const askCode = await password(browser, again.page, 'bob');
    expect(hasForm(askCode, '/totp')).toBe(true);
    await finish(again, await browser.submit(askCode, '/totp', { code: await nextCode(BOB_SECRET) }));

    // A logout is the user's own choice: the next sign-in asks for the password only.
    const [key] = await h.store.sessions.keysOfUser(signed.claims.sub);
    await h.curfew.sessions.end((await h.store.sessions.get(key!))!.id, 'logout');
    const fresh = h.userAgent();
    const after = await begin(fresh, 'acme-app');
    const done = await password(fresh, after.page, 'bob');
    expect(done.leftTo).toContain('code=');
  });

  it('refuses wrong and replayed codes, and locks TOTP after 5 failures', async () => {
    const h = await start({ mfa: 'always' });
    const ua = h.userAgent();
    const flow = await begin(ua, 'acme-app');
    const askCode = await password(ua, flow.page, 'bob');
    const code = await nextCode(BOB_SECRET);
    const wrong = await ua.submit(askCode, '/totp', { code: code === '123456' ? '654321' : '123456' });
    expect(wrong.status).toBe(400);
    expect(wrong.html).toContain('That code is not valid');
    await finish(flow, await ua.submit(wrong, '/totp', { code }));

    // The same code, in the same 30 s, in another browser: a replay.
    const thief = h.userAgent();
    const replayFlow = await begin(thief, 'acme-app');
    const replayPage = await password(thief, replayFlow.page, 'bob');
    const replay = await thief.submit(replayPage, '/totp', { code });
    expect(replay.status).toBe(400);
    expect(replay.leftTo).toBeUndefined();

    let page = replay;
    for (let i = 0; i < 3; i++) page = await thief.submit(page, '/totp', { code: '000000' });
    const locked = await thief.submit(page, '/totp', { code: '000001' });
    expect(locked.status).toBe(429);
    expect(locked.html).toContain('Too many wrong codes');
    // Locked means locked: even the right code is refused now.
    const right = await thief.submit(locked, '/totp', { code: await nextCode(BOB_SECRET) });
    expect(right.status).toBe(429);
    const audit = (await h.store.audit.query({ org: 'acme', limit: 50 })).items;
    expect(audit.filter((e) => e.type === 'mfa.failed').map((e) => e.data?.reason)).toEqual(expect.arrayContaining(['invalid', 'replayed']));
    expect(audit.some((e) => e.type === 'mfa.locked')).toBe(true);
  });

  it('accepts a recovery code exactly once', async () => {
    const h = await start({ mfa: 'always' });
    const ua = h.userAgent();
    const flow = await begin(ua, 'acme-app');
    const enroll = await password(ua, flow.page, 'alice');
    const secret = /<code id="secret">([^<]+)<\/code>/.exec(enroll.html)![1]!.replace(/\s/g, '');
    const codesPage = await ua.submit(enroll, '/enroll', { code: await nextCode(secret) });
    const recovery = [...codesPage.html.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
    await finish(flow, await ua.submit(codesPage, '/continue'));

    const use = async (code: string) => {
      const browser = h.userAgent();
      const f = await begin(browser, 'acme-app');
      const askCode = await password(browser, f.page, 'alice');
      return browser.submit(askCode, '/totp', { code });
    };
    const ok = await use(recovery[3]!.toLowerCase());
    expect(ok.leftTo).toContain('code=');
    const again = await use(recovery[3]!);
    expect(again.status).toBe(400);
    expect(again.leftTo).toBeUndefined();
    const audit = (await h.store.audit.query({ org: 'acme', type: 'mfa.succeeded', limit: 10 })).items;
    expect(audit.map((e) => e.data?.method)).toContain('recovery');
  });

  it('after an RP session\'s own timeout, requires TOTP on re-entry to that RP only', async () => {
    const h = await start();
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    const app = await begin(ua, 'acme-app');
    await finish(app, await password(ua, app.page, 'bob'));
    const other = await begin(ua, 'acme-other');
    expect(other.page.leftTo).toContain('code=');
    await h.clock.set(t0 + 2 * MIN);

    // acme-app is untouched: no code asked, even interactively.
    const appAgain = await begin(ua, 'acme-app');
    expect(appAgain.page.leftTo).toContain('code=');

    const reenter = await begin(ua, 'acme-other');
    expect(reenter.page.html).toContain('Sign in');
    const askCode = await password(ua, reenter.page, 'bob');
    expect(hasForm(askCode, '/totp')).toBe(true);
    const { claims } = await finish(reenter, await ua.submit(askCode, '/totp', { code: await nextCode(BOB_SECRET) }));
    expect(claims.acr).toBe(MFA);
  });

  it('steps up on acr_values without asking for the password again; prompt=none cannot', async () => {
    const h = await start();
    const ua = h.userAgent();
    const flow = await begin(ua, 'acme-app');
    const first = await finish(flow, await password(ua, flow.page, 'bob'));
    expect(first.claims.acr).toBe('urn:curfew:acr:pwd');

    const silent = await begin(ua, 'acme-app', { prompt: 'none', acr_values: MFA });
    expect(new URL(silent.page.leftTo!).searchParams.get('error')).toBe('login_required');

    const stepUp = await begin(ua, 'acme-app', { acr_values: MFA });
    expect(hasForm(stepUp.page, '/totp')).toBe(true);
    expect(hasForm(stepUp.page, '/login')).toBe(false);
    const { claims } = await finish(stepUp, await ua.submit(stepUp.page, '/totp', { code: await nextCode(BOB_SECRET) }));
    expect(claims.acr).toBe(MFA);
    expect(claims.amr).toEqual(['pwd', 'otp']);
    expect(claims.sid).toBe(first.claims.sid);
  });

  it('refuses a user who never enrolled at re-entry, with a clear page and an audit event', async () => {
    const h = await start();
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    const flow = await begin(ua, 'acme-app');
    const enroll = await password(ua, flow.page, 'alice');
    const secret = /<code id="secret">([^<]+)<\/code>/.exec(enroll.html)![1]!.replace(/\s/g, '');
    const codes = await ua.submit(enroll, '/enroll', { code: await nextCode(secret) });
    const { claims } = await finish(flow, await ua.submit(codes, '/continue'));
    await h.curfew.mfa.reset(claims.sub);

    await h.clock.set(t0 + 15 * MIN);
    const back = await begin(ua, 'acme-app');
    const refused = await password(ua, back.page, 'alice');
    expect(refused.status).toBe(403);
    expect(refused.html).toContain('You need an authenticator to continue');
    expect(refused.leftTo).toBeUndefined();
    const audit = (await h.store.audit.query({ org: 'acme', type: 'mfa.required', limit: 5 })).items;
    expect(audit[0]?.data).toMatchObject({ outcome: 'refused', reason: 'not_enrolled' });
  });

  it('lets a never-enrolled user enroll at re-entry where the org allows it', async () => {
    const h = await start({ allowEnrollmentAtReentry: true });
    await h.curfew.mfa.requireStepUp((await h.store.directory.findUserByName('acme', 'alice'))!.id, '*');
    const ua = h.userAgent();
    const flow = await begin(ua, 'acme-app');
    const page = await password(ua, flow.page, 'alice');
    expect(page.html).toContain('Set up two-step sign-in');
  });

  it('never shows a TOTP secret, code or recovery code in logs, audit entries or API responses', async () => {
    const h = await start({ mfa: 'always' });
    const ua = h.userAgent();
    const flow = await begin(ua, 'acme-app');
    const enroll = await password(ua, flow.page, 'alice');
    const secret = /<code id="secret">([^<]+)<\/code>/.exec(enroll.html)![1]!.replace(/\s/g, '');
    const code = await nextCode(secret);
    const codesPage = await ua.submit(enroll, '/enroll', { code });
    const recovery = [...codesPage.html.matchAll(/<li><code>([A-Z0-9-]+)<\/code><\/li>/g)].map((m) => m[1]!);
    const { tokens, claims } = await finish(flow, await ua.submit(codesPage, '/continue'));

    const userinfo = await (await fetch(`${h.url}/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).text();
    const introspection = JSON.stringify(await oidc.tokenIntrospection(await h.rp('acme-app'), tokens.access_token));
    const audit = JSON.stringify((await h.store.audit.query({ org: 'acme', limit: 100 })).items);
    const logs = h.logs.join('');
    for (const [name, text] of Object.entries({ logs, audit, userinfo, introspection, idToken: JSON.stringify(claims) })) {
      for (const secretValue of [secret, BOB_SECRET, ...recovery, ...recovery.map((r) => r.replace('-', ''))]) {
        expect(text, `${name} contains a secret`).not.toContain(secretValue);
      }
      // A 6-digit code may occur inside a timestamp by chance; as a value of its own it must not.
      expect(text, `${name} contains the TOTP code`).not.toMatch(new RegExp(`(?<![0-9])${code}(?![0-9])`));
    }
  });
});

describe('acr after a timeout', () => {
  it('never carries over: an MFA session that timed out gives a password-only sign-in pwd again', async () => {
    const h = await startCurfew('memory', { seed: seed({ mfa: 'off' }) });
    try {
      const t0 = await h.clock.now();
      const ua = h.userAgent();
      const rp = await h.rp('acme-app');
      const first = await authorizationUrl(rp, { acr_values: MFA });
      const login = await ua.navigate(first.url.href);
      const askCode = await ua.submit(login, '/login', { username: 'bob', password: PASSWORDS.bob });
      h.totp.advance(30_000);
      const done = await ua.submit(askCode, '/totp', { code: await totpCode(BOB_SECRET, h.totp.now()) });
      expect((await completeSignIn(rp, done.leftTo!, first)).claims.acr).toBe(MFA);

      await h.clock.set(t0 + 15 * MIN);
      const again = await authorizationUrl(rp);
      const page = await ua.navigate(again.url.href);
      const back = await ua.submit(page, '/login', { username: 'bob', password: PASSWORDS.bob });
      const { claims } = await completeSignIn(rp, back.leftTo!, again);
      expect(claims.acr).toBe('urn:curfew:acr:pwd');
      expect(claims.amr).toEqual(['pwd']);
    } finally {
      await h.close();
    }
  });
});
