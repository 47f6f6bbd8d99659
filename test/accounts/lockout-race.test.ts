import { afterEach, describe, expect, it } from 'vitest';
import type { AuditEventType } from '../../src/audit/types.ts';
import { authorizationUrl, PASSWORDS, startCurfew, STORE_KINDS, type Harness } from '../support/curfew.ts';
import type { Page, UserAgent } from '../support/user-agent.ts';

const ACCOUNT_LIMIT = 5;

describe.each(STORE_KINDS)('password lockout under parallel sign-ins (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  /** One login page per attempt, each its own browser (and source IP unless given). */
  async function loginPages(n: number, ip?: (i: number) => string): Promise<Array<{ ua: UserAgent; page: Page }>> {
    const rp = await h!.rp('acme-app');
    const pages = [];
    for (let i = 0; i < n; i++) {
      const ua = h!.userAgent({ ip: ip ? ip(i) : `10.1.${Math.floor(i / 200)}.${i % 200}` });
      pages.push({ ua, page: await ua.navigate((await authorizationUrl(rp)).url.href) });
    }
    return pages;
  }

  const auditOf = async (type: AuditEventType) => (await h!.store.audit.query({ org: 'acme', type, limit: 500 })).items;

  it(`judges at most ${ACCOUNT_LIMIT} of 41 parallel passwords for one account; the right one in the burst does not sign in`, async () => {
    h = await startCurfew(kind, { config: { 'login.accountFailures': ACCOUNT_LIMIT } });
    const pages = await loginPages(41);
    const passwords = [...Array.from({ length: 40 }, (_, i) => `wrong password ${i}`), PASSWORDS.alice];
    const answers = await Promise.all(pages.map(({ ua, page }, i) => ua.submit(page, '/login', { username: 'alice', password: passwords[i]! })));

    expect(answers.filter((a) => a.leftTo !== undefined)).toHaveLength(0);
    expect(answers.filter((a) => a.status === 400)).toHaveLength(ACCOUNT_LIMIT);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(41 - ACCOUNT_LIMIT);
    expect(answers[40]!.status).toBe(429);
    expect(await auditOf('login.failed')).toHaveLength(ACCOUNT_LIMIT);
    expect(await auditOf('login.succeeded')).toHaveLength(0);
  });

  it('counts parallel attempts on unknown usernames the same way', async () => {
    h = await startCurfew(kind, { config: { 'login.accountFailures': ACCOUNT_LIMIT } });
    const pages = await loginPages(40);
    const answers = await Promise.all(pages.map(({ ua, page }, i) => ua.submit(page, '/login', { username: 'ghost', password: `guess ${i}` })));
    expect(answers.filter((a) => a.status === 400)).toHaveLength(ACCOUNT_LIMIT);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(40 - ACCOUNT_LIMIT);
  });

  it('judges at most the per-IP limit of parallel attempts from one address across accounts', async () => {
    h = await startCurfew(kind, { config: { 'login.ipFailures': 10 } });
    const pages = await loginPages(40, () => '10.9.9.9');
    const answers = await Promise.all(pages.map(({ ua, page }, i) => ua.submit(page, '/login', { username: `user${i}`, password: 'wrong password' })));
    expect(answers.filter((a) => a.status === 400)).toHaveLength(10);
    expect(answers.filter((a) => a.status === 429)).toHaveLength(30);
    const blocked = await auditOf('login.blocked');
    expect(blocked.every((e) => e.data?.limitedBy === 'ip')).toBe(true);
  });

  it('gives the attempts back on success: a right password among fewer failures signs in and clears the account', async () => {
    h = await startCurfew(kind, { config: { 'login.accountFailures': ACCOUNT_LIMIT } });
    const pages = await loginPages(ACCOUNT_LIMIT);
    const passwords = [...Array.from({ length: ACCOUNT_LIMIT - 1 }, (_, i) => `wrong password ${i}`), PASSWORDS.alice];
    const answers = await Promise.all(pages.map(({ ua, page }, i) => ua.submit(page, '/login', { username: 'alice', password: passwords[i]! })));
    expect(answers.filter((a) => a.leftTo !== undefined)).toHaveLength(1);
    // The success reset the account: ACCOUNT_LIMIT - 1 further failures still leave it open.
    const more = await loginPages(ACCOUNT_LIMIT);
    for (const [i, { ua, page }] of more.slice(0, ACCOUNT_LIMIT - 1).entries()) {
      expect((await ua.submit(page, '/login', { username: 'alice', password: `again wrong ${i}` })).status).toBe(400);
    }
    const last = more[ACCOUNT_LIMIT - 1]!;
    expect((await last.ua.submit(last.page, '/login', { username: 'alice', password: PASSWORDS.alice })).leftTo).toBeDefined();
  });
});
