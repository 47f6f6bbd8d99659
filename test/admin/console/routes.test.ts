import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { totpCode } from '../../../src/mfa/totp.ts';
import { PASSWORDS, signIn, startCurfew, testSeed, type Harness } from '../../support/curfew.ts';
import type { UserAgent } from '../../support/user-agent.ts';

const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** Issue 12 items 2 and 4 in the console: its own session can't be revoked by accident; users are named by username or id. */
describe("the console's own session", () => {
  let h: Harness;
  let ua: UserAgent;
  let csrf: string;
  let own: string;
  beforeAll(async () => {
    const seed = testSeed();
    (seed.orgs[0]!.users.find((u) => u.username === 'bob') as Record<string, unknown>).totpSecret = BOB_SECRET;
    h = await startCurfew('memory', { seed });
    ua = h.userAgent();
    let page = await ua.navigate(`${h.url}/admin/login?org=acme`);
    page = await ua.submit(page, '/login', { username: 'bob', password: PASSWORDS.bob });
    page = await ua.submit(page, '/totp', { code: await totpCode(BOB_SECRET, h.totp.now()) });
    csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? '';
    const bob = (await h.store.directory.findUserByName('acme', 'bob'))!.id;
    own = (await h.curfew.sessions.list('acme', { user: bob }))[0]!.id;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('is marked as yours, and only its row may revoke it', async () => {
    await signIn(h, h.userAgent(), 'acme-app', 'alice');
    const page = await ua.request(`${h.url}/admin/sessions`);
    const rows = page.html.split('<tr data-session=').slice(1);
    const ownRow = rows.find((r) => r.startsWith(`"${own}"`)) ?? '';
    expect(ownRow).toContain('Revoke (your session)');
    expect(ownRow).toContain('name="self" value="yes"');
    expect(rows.filter((r) => r.includes('name="self"'))).toHaveLength(1);
  });

  it('is refused without the row\'s `self` mark (409) and stays alive', async () => {
    const res = await ua.request(`${h.url}/admin/sessions/${own}/revoke`, { form: { csrf } });
    expect(res.status).toBe(409);
    expect(await h.curfew.sessions.get(own)).toBeDefined();
    expect((await ua.request(`${h.url}/admin/sessions`)).status).toBe(200);
  });

  it('filters the audit log by username or id (SPEC §11)', async () => {
    const alice = (await h.store.directory.findUserByName('acme', 'alice'))!.id;
    const rows = (html: string) => html.split('<tbody>')[1]?.split('</tbody>')[0]?.split('<tr data-event=').slice(1) ?? [];
    const byName = rows((await ua.request(`${h.url}/admin/audit?user=alice&type=session.started`)).html);
    expect(byName.length).toBeGreaterThan(0);
    expect(byName.every((r) => r.includes(alice))).toBe(true);
    expect(rows((await ua.request(`${h.url}/admin/audit?user=${alice}&type=session.started`)).html)).toEqual(byName);
    expect(rows((await ua.request(`${h.url}/admin/audit?user=nobody`)).html)).toEqual([]);
  });

  it('ends on purpose from its own row, and the console signs out', async () => {
    const res = await ua.request(`${h.url}/admin/sessions/${own}/revoke`, { form: { csrf, self: 'yes' } });
    expect(res.status).toBe(302);
    expect(res.headers.get('location')).toBe('/admin?ended=1');
    expect((await ua.request(`${h.url}/admin/sessions`)).headers.get('location')).toMatch(/^\/admin/);
    expect(await h.curfew.sessions.get(own)).toBeUndefined();
  });
});
