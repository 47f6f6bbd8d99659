import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, signIn, startCurfew, type Harness } from '../support/curfew.ts';
import { freshPrefix } from '../support/redis.ts';


/**
 * Two instances over one Redis prefix, each with its own cache of clients and orgs
 * (src/orgs/directory-cache.ts): a change made on A reaches B's next requests once its message
 * arrives — polled a bounded number of times, a pub/sub message takes milliseconds.
 */
describe('directory cache across two instances', () => {
  const prefix = freshPrefix('cache');
  let a: Harness;
  let b: Harness;
  beforeAll(async () => {
    a = await startCurfew('redis', { prefix });
    b = await startCurfew('redis', { prefix });
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  async function refresh(h: Harness, token: string) {
    const res = await fetch(`${h.url}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from('globex-app:globex-app-secret-0123456789').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: token }),
    });
    return { status: res.status, body: (await res.json()) as { refresh_token?: string; error?: string } };
  }

  /** Runs `attempt` until it says the change arrived, at most 40 times 50 ms apart. */
  async function poll(attempt: () => Promise<boolean>): Promise<number> {
    for (let i = 1; i <= 40; i++) {
      if (await attempt()) return i;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('the change never reached the other instance');
  }

  it("an org's policy changed on A is applied by B's next sign-in check", async () => {
    const ua = b.userAgent();
    await signIn(b, ua, 'acme-app', 'alice');
    const rp = await b.rp('acme-app');
    const silent = async () => {
      const page = await ua.navigate((await authorizationUrl(rp, { prompt: 'none' })).url.href);
      return new URL(page.leftTo!).searchParams;
    };
    // B has read acme's policy (mfa off) and keeps it: a silent sign-in gets a code.
    expect((await silent()).get('code')).toBeTruthy();
    const org = (await a.store.directory.getOrg('acme'))!;
    await a.curfew.changePolicy('acme', { ...org.policy, mfa: 'always' }, 'admin:test');
    await poll(async () => (await silent()).get('error') === 'login_required');
  });

  it('a client deleted on A refuses its next refresh at B', async () => {
    const signedIn = await signIn(b, b.userAgent(), 'globex-app', 'carol');
    let token = signedIn.tokens.refresh_token!;
    const first = await refresh(b, token);
    expect(first.status).toBe(200);
    token = first.body.refresh_token!;
    // The tokens stay in the store: only the client's record is gone, so only a fresh read of it refuses.
    await a.store.directory.deleteClient('globex-app');
    await poll(async () => {
      const res = await refresh(b, token);
      if (res.status === 200) token = res.body.refresh_token!;
      return res.status !== 200;
    });
    const refused = await refresh(b, token);
    expect(refused.body.error).toBe('invalid_client');
  });
});
