import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCurfew, STORE_KINDS, type Harness } from '../support/curfew.ts';

/**
 * Issue 10, item 12: names an object inherits (`constructor`, `__proto__`, `toString`) are not
 * routes or assets, and a cursor whose numbers no store can represent is the client's mistake.
 */
describe.each(STORE_KINDS)('inherited names and out-of-range cursors (%s store)', (kind) => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await startCurfew(kind);
    token = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
  });
  afterAll(async () => {
    await h?.close();
  });

  it.each(['/static/constructor', '/static/__proto__', '/static/toString', '/static/hasOwnProperty', '/__proto__', '/toString', '/constructor', '/admin/__proto__'])(
    'answers GET %s with a 404, keeping the connection',
    async (path) => {
      const res = await fetch(`${h.url}${path}`, { redirect: 'manual' });
      expect(res.status).toBe(404);
      await res.text();
    },
  );

  it('still serves the real assets', async () => {
    const res = await fetch(`${h.url}/static/curfew.css`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/css');
  });

  it.each(['99999999999999999999999-0', '0-99999999999999999999999', '18446744073709551616-0', '9007199254740993-0'])(
    'answers an audit cursor of %s with a 400 naming the cursor',
    async (id) => {
      const cursor = Buffer.from(id).toString('base64url');
      const res = await fetch(`${h.url}/admin/api/v1/orgs/acme/audit?cursor=${cursor}`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(400);
      expect(((await res.json()) as { error_description: string }).error_description).toContain('cursor');
    },
  );

  it('still follows a cursor it issued', async () => {
    for (let i = 0; i < 2; i++) await h.store.audit.append({ type: 'seed.applied', org: 'acme', data: { i } });
    const first = await fetch(`${h.url}/admin/api/v1/orgs/acme/audit?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    const page = (await first.json()) as { nextCursor?: string };
    expect(page.nextCursor).toBeDefined();
    const next = await fetch(`${h.url}/admin/api/v1/orgs/acme/audit?limit=1&cursor=${page.nextCursor}`, { headers: { authorization: `Bearer ${token}` } });
    expect(next.status).toBe(200);
  });
});
