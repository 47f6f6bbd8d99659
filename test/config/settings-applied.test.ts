import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signIn, startCurfew, type Harness } from '../support/curfew.ts';

/** Settings that used to be constants in route modules reach what they configure. */
describe('route limits from settings', () => {
  let h: Harness;
  let adminToken: string;

  beforeAll(async () => {
    h = await startCurfew('memory', { config: { 'bodyLimits.sessionApiKb': 1, 'bodyLimits.adminApiKb': 2, 'bodyLimits.signInFormKb': 1, 'bodyLimits.consoleFormKb': 2, 'bodyLimits.accountFormKb': 1, 'activity.reportsPerMinute': 3 } });
    adminToken = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
  });
  afterAll(async () => {
    await h?.close();
  });

  const form = (bytes: number) => `client_id=acme-app&sid=s&pad=${'x'.repeat(bytes)}`;
  const sessionStatus = (body: string) =>
    fetch(`${h.url}/session/status`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });

  it('refuses a /session/status body over bodyLimits.sessionApiKb with 413, and reads one under it', async () => {
    expect((await sessionStatus(form(1100))).status).toBe(413);
    expect((await sessionStatus(form(900))).status).not.toBe(413);
  });

  // Over the limit is 413 (as the setting's description says), not the 400 of unreadable JSON.
  it('refuses an admin API body over bodyLimits.adminApiKb, and reads one under it', async () => {
    const put = (bytes: number) =>
      fetch(`${h.url}/admin/api/v1/orgs/acme/users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'padded', pad: 'x'.repeat(bytes) }),
      });
    const over = await put(2100);
    expect(over.status).toBe(413);
    expect(await over.json()).toMatchObject({ error: 'payload_too_large', error_description: 'the body is larger than 2 KB' });
    const under = await put(1900);
    expect(under.status).toBe(400);
    expect(JSON.stringify(await under.json())).not.toContain('not valid JSON');
  });

  // The form limits are checked before anything else of the route (no sign-in page, console session
  // or account session needed): over the limit is 413, under it the route's own answer.
  it('refuses forms over bodyLimits.signInFormKb, consoleFormKb and accountFormKb with 413, and reads them under it', async () => {
    const post = (path: string, bytes: number) =>
      fetch(`${h.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=x&pad=${'x'.repeat(bytes)}` });
    for (const [path, kb] of [['/interaction/nope/login', 1], ['/admin/logout', 2], ['/account/stay', 1]] as const) {
      expect((await post(path, kb * 1024 + 100)).status, path).toBe(413);
      const under = await post(path, kb * 1024 - 100);
      expect(under.status, path).not.toBe(413);
      expect(under.status, path).toBeLessThan(500);
    }
  });

  it('answers activity.reportsPerMinute activity reports per RP session, and 429 to the next', async () => {
    const signed = await signIn(h, h.userAgent(), 'acme-spa', 'alice');
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${h.url}/session/activity`, { method: 'POST', headers: { authorization: `Bearer ${signed.tokens.access_token}` } });
      statuses.push(res.status);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429]);
  });
});
