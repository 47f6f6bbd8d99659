import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, completeSignIn, PASSWORDS, startCurfew, type Harness } from '../../support/curfew.ts';
import type { UserAgent } from '../../support/user-agent.ts';

/** POST /interaction/:uid/confirm over real HTTP: a third-party client (acme-partner) asks alice. */
describe('consenting to a third-party client (src/oidc/interactions/consent.ts)', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew('memory');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function consentPage(ua: UserAgent) {
    const rp = await h.rp('acme-partner');
    const request = await authorizationUrl(rp);
    const login = await ua.navigate(request.url.href);
    const page = await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice });
    expect(page.html).toContain('Allow access?');
    return { rp, request, login, page };
  }
  const confirmAction = (html: string) => /action="([^"]*\/confirm)"/.exec(html)?.[1] ?? '';

  it('grants what the client asked for: the ID token carries the consented profile, and the user is not asked again', async () => {
    const ua = h.userAgent();
    const { rp, request, page } = await consentPage(ua);
    const done = await ua.submit(page, '/confirm');
    const { claims } = await completeSignIn(rp, done.leftTo!, request);
    expect(claims).toMatchObject({ aud: 'acme-partner', preferred_username: 'alice' });

    const again = await ua.navigate((await authorizationUrl(rp)).url.href);
    expect(again.leftTo).toContain('code=');
  });

  it('refuses a consent without the form\'s CSRF token with 403, and the page still works after', async () => {
    const ua = h.userAgent();
    const { rp, request, page } = await consentPage(ua);
    const forged = await ua.request(confirmAction(page.html), { form: {} });
    expect(forged.status).toBe(403);
    expect(forged.headers.get('location')).toBeNull();
    expect(forged.html).toContain('The form could not be verified');

    const done = await ua.submit(page, '/confirm');
    expect((await completeSignIn(rp, done.leftTo!, request)).claims.aud).toBe('acme-partner');
  });

  it('answers 400 when there is nothing to consent to yet (the login prompt is pending), and loses nothing', async () => {
    const ua = h.userAgent();
    const rp = await h.rp('acme-partner');
    const request = await authorizationUrl(rp);
    const login = await ua.navigate(request.url.href);
    const csrf = /name="csrf" value="([^"]+)"/.exec(login.html)?.[1] ?? '';
    const action = new URL(/action="([^"]*\/login)"/.exec(login.html)![1]!.replace(/\/login$/, '/confirm'), h.url).href;
    const early = await ua.request(action, { form: { csrf } });
    expect(early.status).toBe(400);
    expect(early.html).toContain('There is nothing to consent to on this page.');

    const consent = await ua.submit(login, '/login', { username: 'alice', password: PASSWORDS.alice });
    const done = await ua.submit(consent, '/confirm');
    expect((await completeSignIn(rp, done.leftTo!, request)).claims.aud).toBe('acme-partner');
  });

  it('refuses a consent posted to another sign-in\'s page than the one this browser is in', async () => {
    const ua = h.userAgent();
    const { page: first } = await consentPage(ua);
    // A second authorization request: the browser's interaction is now the new one.
    await ua.navigate((await authorizationUrl(await h.rp('acme-partner'))).url.href);
    const stale = await ua.submit(first, '/confirm');
    expect(stale.status).toBe(400);
    expect(stale.leftTo).toBeUndefined();
    expect(stale.html).toContain('belongs to another sign-in');
  });
});
