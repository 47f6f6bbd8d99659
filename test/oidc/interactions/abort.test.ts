import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, completeSignIn, PASSWORDS, RP_CALLBACK, startCurfew, type Harness } from '../../support/curfew.ts';

/** POST /interaction/:uid/abort over real HTTP. */
describe('cancelling a sign-in (src/oidc/interactions/abort.ts)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew('memory');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function loginPage() {
    const ua = h.userAgent();
    const rp = await h.rp('acme-app');
    const request = await authorizationUrl(rp);
    return { ua, rp, request, page: await ua.navigate(request.url.href) };
  }
  const abortAction = (html: string) => /action="([^"]*\/abort)"/.exec(html)?.[1] ?? '';

  it('returns the user to the client with access_denied, its state and a description', async () => {
    const { ua, request, page } = await loginPage();
    const cancelled = await ua.submit(page, '/abort');
    const back = new URL(cancelled.leftTo!);
    expect(`${back.origin}${back.pathname}`).toBe(RP_CALLBACK);
    expect(back.searchParams.get('error')).toBe('access_denied');
    expect(back.searchParams.get('error_description')).toBe('the user cancelled the sign-in');
    expect(back.searchParams.get('state')).toBe(request.state);
    expect(back.searchParams.get('code')).toBeNull();
  });

  it('refuses a cancel without the form\'s CSRF token with 403, and the sign-in goes on', async () => {
    const { ua, rp, request, page } = await loginPage();
    const forged = await ua.request(abortAction(page.html), { form: {} });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('location')).toBeNull();

    const signed = await ua.submit(page, '/login', { username: 'alice', password: PASSWORDS.alice });
    expect((await completeSignIn(rp, signed.leftTo!, request)).claims.sub).toBeTruthy();
  });

  it('refuses a cancel from a browser that is not in this sign-in (no interaction cookie) with a clear 400', async () => {
    const { page } = await loginPage();
    const stranger = h.userAgent();
    const answer = await stranger.request(abortAction(page.html), { form: { csrf: 'x' } });
    expect(answer.status).toBe(400);
    expect(answer.headers.get('location')).toBeNull();
    expect(answer.html).toContain('Go back to the application and sign in again.');
  });
});
