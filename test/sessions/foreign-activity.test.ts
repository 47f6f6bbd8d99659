import { afterEach, describe, expect, it } from 'vitest';
import { authorizationUrl, signIn, startCurfew, STORE_KINDS, type Harness } from '../support/curfew.ts';

const MIN = 60_000;
const IDLE = 15 * MIN;
const basic = (id: string) => `Basic ${Buffer.from(`${id}:${id}-secret-0123456789`).toString('base64')}`;

describe.each(STORE_KINDS)('activity for a sid that is not the client\'s own (%s store)', (kind) => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  const activity = (client: string, sid: string) => fetch(`${h!.url}/session/activity`, {
    method: 'POST',
    headers: { authorization: basic(client), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ sid }),
  });

  it('keeps nobody\'s session alive: prompt=none after the idle deadline does not sign in', async () => {
    h = await startCurfew(kind);
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    const signed = await signIn(h, ua, 'acme-app', 'alice');
    const sid = signed.claims.sid as string;

    // Another org's client, then another client of the same org, report "activity" on alice's sid.
    await h.clock.set(t0 + IDLE - MIN);
    for (const client of ['globex-app', 'acme-other']) {
      const res = await activity(client, sid);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ active: false });
    }

    // At the idle deadline the SSO session is dead: a silent sign-in to any app is refused.
    await h.clock.set(t0 + IDLE);
    const rp = await h.rp('acme-other');
    const silent = await ua.navigate((await authorizationUrl(rp, { prompt: 'none' })).url.href);
    expect(silent.leftTo).toBeDefined();
    expect(new URL(silent.leftTo!).searchParams.get('error')).toBe('login_required');
  });

  it('still moves the deadlines for the client\'s own sid', async () => {
    h = await startCurfew(kind);
    const t0 = await h.clock.now();
    const ua = h.userAgent();
    const signed = await signIn(h, ua, 'acme-app', 'alice');
    await h.clock.set(t0 + IDLE - MIN);
    const res = await activity('acme-app', signed.claims.sid as string);
    expect(await res.json()).toMatchObject({ active: true, idleExpiresAt: new Date(t0 + 2 * IDLE - MIN).toISOString() });
    await h.clock.set(t0 + IDLE);
    const rp = await h.rp('acme-other');
    const silent = await ua.navigate((await authorizationUrl(rp, { prompt: 'none' })).url.href);
    expect(new URL(silent.leftTo!).searchParams.get('code')).toBeTruthy();
  });
});
