import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORDS, startCurfew, type Harness } from '../../support/curfew.ts';
import { consoleSeed } from './console-sign-in.ts';

/**
 * Issue 12 item 2: the console's org picker does not reveal which orgs exist. Before anyone has
 * authenticated, a known and an unknown org get the same answers: the sign-in page, then the
 * generic failure.
 */
describe("the console's org picker", () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startCurfew('memory', { seed: consoleSeed() });
  });
  afterAll(async () => {
    await h?.close();
  });

  /** A page with what differs per request anyway (interaction ids, CSRF tokens, the client id) blanked. */
  const shape = (html: string) => html.replace(/\/interaction\/[^/"]+/g, '/interaction/UID').replace(/value="[^"]{16,}"/g, 'value="TOKEN"').replace(/curfew-console-[a-z0-9-]+/g, 'curfew-console-ORG');

  async function tryOrg(org: string, username: string, password: string) {
    const ua = h.userAgent();
    const first = await ua.request(`${h.url}/admin/login?org=${org}`);
    const signin = await ua.navigate(`${h.url}/admin/login?org=${org}`);
    const failed = await ua.submit(signin, '/login', { username, password });
    return { first: first.status, firstTo: new URL(first.headers.get('location') ?? '', h.url).pathname, signin: { status: signin.status, path: new URL(signin.url).pathname.replace(/[^/]+$/, 'UID'), html: shape(signin.html) }, failed: { status: failed.status, html: shape(failed.html) } };
  }

  it('answers an unknown org exactly as a known one: the sign-in, then the generic failure', async () => {
    const known = await tryOrg('acme', 'nobody', 'some password 1');
    const unknown = await tryOrg('no-such-org', 'nobody', 'some password 1');
    expect(known.first).toBe(302);
    expect(known.signin.status).toBe(200);
    expect(known.signin.html).toContain('name="password"');
    expect(known.failed.html).toContain('Invalid username or password.');
    expect(unknown).toEqual(known);
  });

  it("never signs anyone in to an org that does not exist, not even with another org's valid password", async () => {
    const other = await tryOrg('no-such-org', 'bob', PASSWORDS.bob);
    expect(other.failed.status).toBe(400);
    expect(other.failed.html).toContain('Invalid username or password.');
  });

  it('refuses a malformed org name with a clear 400, the same for any', async () => {
    const res = await h.userAgent().request(`${h.url}/admin/login?org=${encodeURIComponent('Not An Org!')}`);
    expect(res.status).toBe(400);
    expect(res.html).toContain('lowercase letters, digits or dashes');
  });
});
