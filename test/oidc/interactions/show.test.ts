import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, PASSWORDS, signIn, startCurfew, testSeed, type Harness } from '../../support/curfew.ts';
import type { Page, UserAgent } from '../../support/user-agent.ts';

const hasForm = (page: Page, suffix: string) => new RegExp(`action="[^"]*${suffix}"`).test(page.html);

/**
 * GET /interaction/:uid over real HTTP: the page for whatever the provider's policy asked. A
 * step-up that skips the password (a live session asked for acr mfa) is in second-factor.test.ts.
 */
describe('the interaction page (src/oidc/interactions/show.ts)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew('memory');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function open(ua: UserAgent, client: string, extra: Record<string, string> = {}) {
    return ua.navigate((await authorizationUrl(await h.rp(client), extra)).url.href);
  }

  it('asks for the password, with the login_hint filled in', async () => {
    const page = await open(h.userAgent(), 'acme-app', { login_hint: 'alice' });
    expect(page.status).toBe(200);
    expect(page.url).toMatch(/\/interaction\/[^/]+$/);
    expect(hasForm(page, '/login')).toBe(true);
    expect(page.html).toMatch(/name="username"[^>]*value="alice"|value="alice"[^>]*name="username"/);
    expect(hasForm(page, '/abort')).toBe(true);
  });

  it('asks a signed-in user to consent to a third-party client, naming the user and the scopes asked', async () => {
    const ua = h.userAgent();
    await signIn(h, ua, 'acme-app', 'alice');
    const page = await open(ua, 'acme-partner');
    expect(hasForm(page, '/confirm')).toBe(true);
    expect(hasForm(page, '/login')).toBe(false);
    expect(page.html).toContain('Allow access?');
    expect(page.html).toContain('alice');
    expect(page.html).toContain('profile');
  });

  it('sends a browser signed in to another org back to that client with access_denied, asking nothing', async () => {
    const ua = h.userAgent();
    await signIn(h, ua, 'acme-app', 'alice');
    const page = await open(ua, 'globex-app');
    const back = new URL(page.leftTo!);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('error_description')).toContain('organization');
  });

  it('answers an interaction this browser is not in with a clear 400', async () => {
    const page = await open(h.userAgent(), 'acme-app');
    const stranger = await h.userAgent().request(page.url);
    expect(stranger.status).toBe(400);
    expect(stranger.html).toContain('Go back to the application and sign in again.');
  });
});

describe('the interaction page mid sign-in (src/oidc/interactions/show.ts, mfa: always)', () => {
  let h: Harness;
  beforeAll(async () => {
    const seed = testSeed();
    seed.orgs[0]!.policy = { ...seed.orgs[0]!.policy, mfa: 'always' };
    h = await startCurfew('memory', { seed });
  });
  afterAll(async () => {
    await h?.close();
  });

  it('a reload after the password shows the second-factor stage again, not the password form', async () => {
    const ua = h.userAgent();
    const login = await ua.navigate((await authorizationUrl(await h.rp('acme-app'))).url.href);
    const enroll = await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(hasForm(enroll, '/enroll')).toBe(true);
    const reloaded = await ua.navigate(login.url);
    expect(reloaded.status).toBe(200);
    expect(hasForm(reloaded, '/enroll')).toBe(true);
    expect(hasForm(reloaded, '/login')).toBe(false);
  });
});
