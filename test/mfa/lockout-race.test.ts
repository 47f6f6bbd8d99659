import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEventType } from '../../src/audit/types.ts';
import { totpCode } from '../../src/mfa/totp.ts';
import { authorizationUrl, completeSignIn, PASSWORDS, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';
import type { Page, UserAgent } from '../support/user-agent.ts';

const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';
const LIMIT = 5;

function seed(bobPreEnrolled = true) {
  const s = testSeed();
  s.orgs[0]!.policy = { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 3600, warningSeconds: 60, mfa: 'always' } as typeof s.orgs[0]['policy'];
  if (bobPreEnrolled) (s.orgs[0]!.users.find((u) => u.username === 'bob')! as Record<string, unknown>).totpSecret = BOB_SECRET;
  return s;
}

const hasForm = (page: Page, suffix: string) => new RegExp(`action="[^"]*${suffix}"`).test(page.html);
const wrongCode = (right: string, i: number) => {
  const code = String(i).padStart(6, '0');
  return code === right ? '999999' : code;
};

describe.each(STORE_KINDS)('TOTP lockout under parallel codes (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function toCodePage(ua: UserAgent) {
    const rp = await h!.rp('acme-app');
    const request = await authorizationUrl(rp);
    const login = await ua.navigate(request.url.href);
    const page = await ua.submit(login, '/login', { username: 'bob', password: PASSWORDS.bob });
    return { rp, request, page };
  }

  const auditOf = async (type: AuditEventType) => (await h!.store.audit.query({ org: 'acme', type, limit: 500 })).items;

  it(`judges exactly ${LIMIT} of 100 parallel codes on one step-up; the right code later in the burst is refused`, async () => {
    h = await startCurfew(kind, { seed: seed(), config: { 'mfa.lockoutFailures': LIMIT } });
    const ua = h.userAgent();
    const { page } = await toCodePage(ua);
    expect(hasForm(page, '/totp')).toBe(true);
    const right = await totpCode(BOB_SECRET, h.totp.now());

    // 99 wrong codes, then the right one, all in flight at once.
    const codes = [...Array.from({ length: 99 }, (_, i) => wrongCode(right, i)), right];
    const answers = await Promise.all(codes.map((code) => ua.submit(page, '/totp', { code })));

    expect(answers.filter((a) => a.leftTo !== undefined)).toHaveLength(0);
    expect(answers.every((a) => a.status === 400 || a.status === 429)).toBe(true);
    expect(answers[99]!.status).toBe(429);
    expect(await auditOf('mfa.failed')).toHaveLength(LIMIT);
    expect(await auditOf('mfa.locked')).toHaveLength(1);
    expect(await auditOf('mfa.succeeded')).toHaveLength(0);
    // Still locked afterwards, for the right code too.
    const after = await ua.submit(page, '/totp', { code: right });
    expect(after.status).toBe(429);
    expect(after.leftTo).toBeUndefined();
  });

  it('gives the attempt back on success: the right code among fewer than the limit signs in and clears the count', async () => {
    h = await startCurfew(kind, { seed: seed(), config: { 'mfa.lockoutFailures': LIMIT } });
    const ua = h.userAgent();
    const flow = await toCodePage(ua);
    const right = await totpCode(BOB_SECRET, h.totp.now());
    const answers = await Promise.all([0, 1, 2].map((i) => ua.submit(flow.page, '/totp', { code: wrongCode(right, i) })));
    expect(answers.map((a) => a.status)).toEqual([400, 400, 400]);
    const done = await ua.submit(flow.page, '/totp', { code: right });
    expect(done.leftTo, done.status + done.html.replace(/[\s\S]*class="error[^>]*>/, '').slice(0, 200)).toBeDefined();
    const { claims } = await completeSignIn(flow.rp, done.leftTo!, flow.request);
    expect(claims.amr).toEqual(['pwd', 'otp']);
    expect(await auditOf('mfa.failed')).toHaveLength(3);
    // The count was reset: another LIMIT - 1 failures do not lock.
    const other = h.userAgent();
    const next = await toCodePage(other);
    h.totp.advance(30_000);
    for (let i = 0; i < LIMIT - 1; i++) expect((await other.submit(next.page, '/totp', { code: wrongCode(await totpCode(BOB_SECRET, h.totp.now()), i) })).status).toBe(400);
    expect(await auditOf('mfa.locked')).toHaveLength(0);
  });

  it(`judges exactly ${LIMIT} of 100 parallel enrollment codes`, async () => {
    h = await startCurfew(kind, { seed: seed(false), config: { 'mfa.lockoutFailures': LIMIT } });
    const ua = h.userAgent();
    const { page } = await toCodePage(ua);
    expect(hasForm(page, '/enroll')).toBe(true);
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => ua.submit(page, '/enroll', { code: String(i).padStart(6, '0') })));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(0);
    expect(await auditOf('mfa.failed')).toHaveLength(LIMIT);
    expect(await auditOf('mfa.locked')).toHaveLength(1);
    expect(answers.filter((a) => a.status === 429).length).toBeGreaterThanOrEqual(100 - LIMIT);
  });
});
