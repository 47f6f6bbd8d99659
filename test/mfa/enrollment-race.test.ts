import { afterEach, describe, expect, it } from 'vitest';
import { totpCode } from '../../src/mfa/totp.ts';
import { authorizationUrl, completeSignIn, PASSWORDS, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';
import type { Page, UserAgent } from '../support/user-agent.ts';

const ALREADY = 'already has an authenticator app set up';

function seed() {
  const s = testSeed();
  s.orgs[0]!.policy = { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'always' } as typeof s.orgs[0]['policy'];
  return s;
}

const secretOf = (page: Page) => /<code id="secret">([^<]+)<\/code>/.exec(page.html)![1]!.replace(/\s/g, '');
const hasForm = (page: Page, suffix: string) => new RegExp(`action="[^"]*${suffix}"`).test(page.html);

describe.each(STORE_KINDS)('an enrollment left open (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** A browser signed in with alice's password and shown the enrollment page (a new secret). */
  async function openEnrollment() {
    const ua = h!.userAgent();
    const rp = await h!.rp('acme-app');
    const request = await authorizationUrl(rp);
    const page = await ua.submit(await ua.navigate(request.url.href), '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(hasForm(page, '/enroll')).toBe(true);
    return { ua, rp, request, page, secret: secretOf(page) };
  }

  async function signInWithCode(secret: string) {
    const ua: UserAgent = h!.userAgent();
    const rp = await h!.rp('acme-app');
    const request = await authorizationUrl(rp);
    const askCode = await ua.submit(await ua.navigate(request.url.href), '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(hasForm(askCode, '/totp')).toBe(true);
    h!.totp.advance(30_000);
    return ua.submit(askCode, '/totp', { code: await totpCode(secret, h!.totp.now()) });
  }

  it('never replaces the authenticator the user enrolled: the later finish is refused with a clear page', async () => {
    h = await startCurfew(kind, { seed: seed() });
    const intruder = await openEnrollment();
    const user = await openEnrollment();
    expect(intruder.secret).not.toBe(user.secret);

    h.totp.advance(30_000);
    const enrolled = await user.ua.submit(user.page, '/enroll', { code: await totpCode(user.secret, h.totp.now()) });
    expect(enrolled.html).toContain('Save your recovery codes');
    const done = await user.ua.submit(enrolled, '/continue');
    expect((await completeSignIn(user.rp, done.leftTo!, user.request)).claims.amr).toEqual(['pwd', 'otp']);

    h.totp.advance(30_000);
    const late = await intruder.ua.submit(intruder.page, '/enroll', { code: await totpCode(intruder.secret, h.totp.now()) });
    expect(late.status).toBe(409);
    expect(late.leftTo).toBeUndefined();
    expect(late.html).toContain(ALREADY);
    expect(late.html).not.toContain('Save your recovery codes');
    // The refused page now asks for the enrolled authenticator's code; the intruder's does not work.
    expect(hasForm(late, '/totp')).toBe(true);
    h.totp.advance(30_000);
    expect((await intruder.ua.submit(late, '/totp', { code: await totpCode(intruder.secret, h.totp.now()) })).status).toBe(400);

    // The user's authenticator is still the one that counts; the intruder's is not.
    expect((await signInWithCode(user.secret)).leftTo).toBeDefined();
    expect((await signInWithCode(intruder.secret)).status).toBe(400);
    const failed = (await h.store.audit.query({ org: 'acme', type: 'mfa.failed', limit: 10 })).items;
    expect(failed.map((e) => e.data?.reason)).toContain('already_enrolled');
  });

  it('of 50 concurrent finishes, each with its own secret and right code, exactly one enrolls', async () => {
    h = await startCurfew(kind, { seed: seed(), config: { 'mfa.lockoutFailures': 100 } });
    const opened = [];
    for (let i = 0; i < 50; i++) opened.push(await openEnrollment());
    h.totp.advance(30_000);
    const now = h.totp.now();
    const answers = await Promise.all(opened.map(async (o) => o.ua.submit(o.page, '/enroll', { code: await totpCode(o.secret, now) })));

    const winners = answers.flatMap((a, i) => (a.html.includes('Save your recovery codes') ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(49);
    const succeeded = (await h.store.audit.query({ org: 'acme', type: 'mfa.succeeded', limit: 100 })).items;
    expect(succeeded).toHaveLength(1);
    expect((await signInWithCode(opened[winners[0]!]!.secret)).leftTo).toBeDefined();
    const loser = opened[winners[0] === 0 ? 1 : 0]!;
    expect((await signInWithCode(loser.secret)).status).toBe(400);
  }, 90_000); // 50 password sign-ins (argon2) come first
});
