import { afterEach, describe, expect, it } from 'vitest';
import { authorizationUrl, PASSWORDS, startCurfew, STORE_KINDS, type Harness } from '../../support/curfew.ts';
import type { UserAgent, Page } from '../../support/user-agent.ts';

const GENERIC = 'Invalid username or password.';

describe.each(STORE_KINDS)('password sign-in security (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  async function loginPage(ua: UserAgent): Promise<Page> {
    const rp = await h!.rp('acme-app');
    return ua.navigate((await authorizationUrl(rp)).url.href);
  }

  it('gives one generic message for a wrong password, an unknown user and a disabled user', async () => {
    h = await startCurfew(kind);
    const ua = h.userAgent();
    const cases = [
      { username: 'alice', password: 'wrong password' },
      { username: 'nobody', password: 'whatever pass' },
      { username: 'dave', password: PASSWORDS.dave },
    ];
    for (const fill of cases) {
      const page = await ua.submit(await loginPage(ua), '/login', fill);
      expect(page.status, fill.username).toBe(400);
      expect(page.leftTo).toBeUndefined();
      expect(page.html).toContain(GENERIC);
    }
    const failures = (await h.store.audit.query({ org: 'acme', type: 'login.failed', limit: 10 })).items;
    expect(failures).toHaveLength(3);
    expect(failures.map((f) => f.data?.reason).sort()).toEqual(['disabled', 'invalid_credentials', 'invalid_credentials']);
  });

  it('accepts usernames case-insensitively', async () => {
    h = await startCurfew(kind);
    const ua = h.userAgent();
    const page = await ua.submit(await loginPage(ua), '/login', { username: '  Alice ', password: PASSWORDS.alice });
    expect(page.leftTo).toContain('code=');
  });

  it('blocks an account after 5 failures, even for the right password, with Retry-After', async () => {
    h = await startCurfew(kind);
    for (let i = 0; i < 5; i++) {
      const ua = h.userAgent({ ip: `127.0.0.${10 + i}` });
      const page = await ua.submit(await loginPage(ua), '/login', { username: 'alice', password: `wrong ${i}` });
      expect(page.status).toBe(400);
    }
    const ua = h.userAgent({ ip: '127.0.0.99' });
    const blocked = await ua.submit(await loginPage(ua), '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(blocked.status).toBe(429);
    expect(blocked.leftTo).toBeUndefined();
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(800);
    expect(blocked.html).toContain('Too many failed sign-ins');
    // Another account is unaffected.
    const bob = await ua.submit(await loginPage(ua), '/login', { username: 'bob', password: PASSWORDS.bob });
    expect(bob.leftTo).toContain('code=');
    const events = (await h.store.audit.query({ org: 'acme', type: 'login.blocked', limit: 5 })).items;
    expect(events[0]?.data).toMatchObject({ limitedBy: 'account' });
  });

  it('counts failures for unknown usernames the same way, so blocking reveals nothing', async () => {
    h = await startCurfew(kind, { config: { 'login.accountFailures': 2 } });
    const ua = h.userAgent();
    for (let i = 0; i < 2; i++) await ua.submit(await loginPage(ua), '/login', { username: 'ghost', password: 'nope nope' });
    const page = await ua.submit(await loginPage(ua), '/login', { username: 'ghost', password: 'nope nope' });
    expect(page.status).toBe(429);
  });

  it('blocks a source IP that fails across many accounts', async () => {
    h = await startCurfew(kind, { config: { 'login.ipFailures': 3 } });
    const ua = h.userAgent({ ip: '127.0.0.42' });
    for (const username of ['u1', 'u2', 'u3']) {
      await ua.submit(await loginPage(ua), '/login', { username, password: 'wrong pass' });
    }
    const page = await ua.submit(await loginPage(ua), '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(page.status).toBe(429);
    const other = h.userAgent({ ip: '127.0.0.43' });
    const ok = await other.submit(await loginPage(other), '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(ok.leftTo).toContain('code=');
  });

  it('refuses a login post without the CSRF token, or from another browser', async () => {
    h = await startCurfew(kind);
    const ua = h.userAgent();
    const page = await loginPage(ua);
    const action = new URL(/action="([^"]+\/login)"/.exec(page.html)![1]!, h.url).href;
    const noToken = await ua.request(action, { form: { username: 'alice', password: PASSWORDS.alice } });
    expect(noToken.status).toBe(403);
    const wrongToken = await ua.request(action, { form: { username: 'alice', password: PASSWORDS.alice, csrf: 'x'.repeat(43) } });
    expect(wrongToken.status).toBe(403);

    // An attacker's browser has neither the victim's interaction cookie nor its CSRF cookie.
    const attacker = h.userAgent();
    const csrf = /name="csrf" value="([^"]+)"/.exec(page.html)![1]!;
    const forged = await attacker.request(action, { form: { username: 'alice', password: PASSWORDS.alice, csrf } });
    expect(forged.status).toBe(400);
    expect(forged.html).toContain('expired');
  });

  it('never logs a password', async () => {
    h = await startCurfew(kind);
    const ua = h.userAgent();
    await ua.submit(await loginPage(ua), '/login', { username: 'alice', password: 'a-wrong-password-123' });
    await ua.submit(await loginPage(ua), '/login', { username: 'alice', password: PASSWORDS.alice });
    const logs = h.logs.join('');
    expect(logs).toContain('login.failed');
    expect(logs).not.toContain('a-wrong-password-123');
    expect(logs).not.toContain(PASSWORDS.alice);
    const audit = JSON.stringify((await h.store.audit.query({ org: 'acme', limit: 50 })).items);
    expect(audit).not.toContain('a-wrong-password-123');
  });
});
