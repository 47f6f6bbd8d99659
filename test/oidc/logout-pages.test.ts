import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, signIn, startCurfew, STORE_KINDS, type Harness } from '../support/curfew.ts';

/**
 * Issue 10 item 16: the page after the sign-out confirmation says what really happened. The
 * form submitted without its "Yes" button (`logout`) ends nothing but the asking app's session.
 */
describe.each(STORE_KINDS)('the sign-out confirmation result (%s store)', (kind) => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew(kind);
  });
  afterAll(async () => {
    await h?.close();
  });

  it('says "still signed in" when the form is submitted without "Yes", and the session indeed lives on', async () => {
    const ua = h.userAgent();
    const { tokens } = await signIn(h, ua, 'acme-app', 'alice');
    await signIn(h, ua, 'acme-other', 'alice');
    const endUrl = oidc.buildEndSessionUrl(await h.rp('acme-app'), { id_token_hint: tokens.id_token! });
    const confirm = await ua.navigate(endUrl.href);
    expect(confirm.html).toContain('Sign out?');
    const done = await ua.submit(confirm, '/session/end/confirm');
    expect(done.status).toBe(200);
    expect(done.html).toContain('You are still signed in');
    expect(done.html).not.toContain('You are signed out');
    expect(done.html).not.toContain('has ended');
    expect(done.html).toContain('acme-app');

    // What the page says is what happened: the other app still signs in silently.
    const other = await h.rp('acme-other');
    const silent = await ua.navigate((await authorizationUrl(other, { prompt: 'none' })).url.href);
    expect(new URL(silent.leftTo!).searchParams.get('code')).toBeTruthy();
  });

  it('says "still signed in", naming no app, when no app asked and nothing ended', async () => {
    const ua = h.userAgent();
    await signIn(h, ua, 'acme-app', 'alice');
    const confirm = await ua.navigate(`${h.url}/session/end`);
    const done = await ua.submit(confirm, '/session/end/confirm');
    expect(done.status).toBe(200);
    expect(done.html).toContain('You are still signed in');
    expect(done.html).toContain('nothing was signed out');
    const silent = await ua.navigate((await authorizationUrl(await h.rp('acme-app'), { prompt: 'none' })).url.href);
    expect(new URL(silent.leftTo!).searchParams.get('code')).toBeTruthy();
  });

  it('says "signed out" after "Yes", and the session is gone', async () => {
    const ua = h.userAgent();
    await signIn(h, ua, 'acme-app', 'alice');
    const confirm = await ua.navigate(`${h.url}/session/end`);
    const done = await ua.submit(confirm, '/session/end/confirm', { logout: 'yes' });
    expect(done.html).toContain('You are signed out');
    expect(done.html).not.toContain('still signed in');
    const silent = await ua.navigate((await authorizationUrl(await h.rp('acme-app'), { prompt: 'none' })).url.href);
    expect(new URL(silent.leftTo!).searchParams.get('error')).toBe('login_required');
  });
});
