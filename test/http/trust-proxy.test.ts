import { afterEach, describe, expect, it } from 'vitest';
import { authorizationUrl, PASSWORDS, signIn, startCurfew, STORE_KINDS, testSeed, type Harness } from '../support/curfew.ts';
import type { UserAgent } from '../support/user-agent.ts';

/** The org of the test seed with an office network whose sessions may idle 30 minutes, not 15. */
function seedWithOffice() {
  const seed = testSeed();
  seed.orgs[0]!.policy = {
    ...seed.orgs[0]!.policy,
    rules: [{ name: 'office', match: { networks: ['10.20.0.0/16'] }, idleTimeoutSeconds: 1800 }],
  } as typeof seed.orgs[0]['policy'];
  return seed;
}

// The proxy in front of Curfew appends the address it saw (192.0.2.10) to whatever the client sent.
const spoofed = (leftmost: string) => `${leftmost}, 192.0.2.10`;

describe.each(STORE_KINDS)('X-Forwarded-For behind one trusted proxy (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('takes the address the proxy appended, so a spoofed office IP does not get the office idle limit', async () => {
    h = await startCurfew(kind, { seed: seedWithOffice() });
    const ua = h.userAgent({ ip: spoofed('10.20.7.7') });
    await signIn(h, ua, 'acme-app', 'alice');
    const [session] = await h.curfew.sessions.list('acme');
    expect(session?.ip).toBe('192.0.2.10');
    expect(session?.idleSeconds).toBe(900);

    // The office itself, through the same proxy, still gets it.
    const office = h.userAgent({ ip: '10.20.7.7' });
    await signIn(h, office, 'acme-app', 'bob');
    const bob = (await h.curfew.sessions.list('acme')).find((s) => s.ip === '10.20.7.7');
    expect(bob?.idleSeconds).toBe(1800);
  });

  it('counts failed sign-ins against the real address, however the leftmost entry rotates', async () => {
    h = await startCurfew(kind, { config: { 'login.ipFailures': 3 } });
    const loginPage = async (ua: UserAgent) => ua.navigate((await authorizationUrl(await h!.rp('acme-app'))).url.href);
    for (let i = 1; i <= 3; i++) {
      const ua = h.userAgent({ ip: spoofed(`198.51.100.${i}`) });
      await ua.submit(await loginPage(ua), '/login', { username: `u${i}`, password: 'wrong pass' });
    }
    const ua = h.userAgent({ ip: spoofed('198.51.100.99') });
    const page = await ua.submit(await loginPage(ua), '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(page.status).toBe(429);
  });

  it('with two trusted hops, takes the address the outer proxy appended', async () => {
    h = await startCurfew(kind, { seed: seedWithOffice(), config: { trustProxyHops: 2 } });
    const ua = h.userAgent({ ip: '10.99.0.1, 10.20.7.7, 172.16.0.2' });
    await signIn(h, ua, 'acme-app', 'alice');
    const [session] = await h.curfew.sessions.list('acme');
    expect(session?.ip).toBe('10.20.7.7');
    expect(session?.idleSeconds).toBe(1800);
  });
});
