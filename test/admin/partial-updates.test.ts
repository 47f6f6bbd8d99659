import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCurfew, STORE_KINDS, type Harness } from '../support/curfew.ts';

const API = '/admin/api/v1';

/** Issue 10 item 7: a PATCH changes only the keys it sends; defaults belong to creation. */
describe.each(STORE_KINDS)('partial updates (%s store)', (kind) => {
  let h: Harness;
  let token: string;
  beforeAll(async () => {
    h = await startCurfew(kind, { config: { 'backchannel.allowlist': ['http://127.0.0.1:*'] } });
    token = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
  });
  afterAll(async () => {
    await h?.close();
  });

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${h.url}${API}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as Record<string, any> };
  };

  describe('PATCH /clients/{client}', () => {
    it('keeps firstParty, the ID token algorithm, adminApi and every other field it was not sent', async () => {
      const created = await call('POST', '/orgs/acme/clients', {
        client_id: 'erp',
        client_secret: 'erp-secret-0123456789abcdef',
        redirect_uris: ['https://erp.example/cb'],
        post_logout_redirect_uris: ['https://erp.example/bye'],
        backchannel_logout_uri: 'https://erp.example/bcl',
        backchannel_logout_session_required: false,
        adminApi: true,
        firstParty: false,
        id_token_signed_response_alg: 'ES256',
      });
      expect(created.status).toBe(201);
      const before = (await h.store.directory.getClient('erp'))!;

      const patched = await call('PATCH', '/orgs/acme/clients/erp', { redirect_uris: ['https://erp.example/cb2'] });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ firstParty: false, id_token_signed_response_alg: 'ES256', adminApi: true, backchannel_logout_session_required: false });
      expect(await h.store.directory.getClient('erp')).toEqual({ ...before, redirect_uris: ['https://erp.example/cb2'] });

      // One more field, one more change: the rest still as created.
      await call('PATCH', '/orgs/acme/clients/erp', { firstParty: true });
      expect(await h.store.directory.getClient('erp')).toEqual({ ...before, redirect_uris: ['https://erp.example/cb2'], firstParty: true });

      // The admin API client keeps its client-credentials grant: it still gets admin tokens.
      const rp = await h.rp('erp', 'erp-secret-0123456789abcdef');
      expect((await oidc.clientCredentialsGrant(rp, { scope: 'admin' })).scope).toBe('admin');
    });

    it('refuses a key it does not know, changing nothing', async () => {
      const before = await h.store.directory.getClient('acme-app');
      const res = await call('PATCH', '/orgs/acme/clients/acme-app', { firstParty: false, org: 'globex' });
      expect(res.status).toBe(400);
      expect(await h.store.directory.getClient('acme-app')).toEqual(before);
    });
  });

  describe('PATCH /users/{user}', () => {
    it('keeps roles and the disabled flag when only the password is sent, and the password when only roles are', async () => {
      const created = await call('POST', '/orgs/acme/users', { username: 'frank', password: 'frank password 1', roles: ['staff', 'ops'], disabled: true });
      expect(created.status).toBe(201);
      const before = (await h.store.directory.getUser(created.body.id))!;

      expect((await call('PATCH', `/orgs/acme/users/${before.id}`, { password: 'frank password 2' })).status).toBe(200);
      const afterPassword = (await h.store.directory.getUser(before.id))!;
      expect(afterPassword.passwordHash).not.toBe(before.passwordHash);
      expect(afterPassword).toEqual({ ...before, passwordHash: afterPassword.passwordHash });

      expect((await call('PATCH', `/orgs/acme/users/${before.id}`, { roles: ['staff'] })).status).toBe(200);
      expect(await h.store.directory.getUser(before.id)).toEqual({ ...afterPassword, roles: ['staff'] });

      expect((await call('PATCH', `/orgs/acme/users/${before.id}`, {})).status).toBe(200);
      expect(await h.store.directory.getUser(before.id)).toEqual({ ...afterPassword, roles: ['staff'] });
    });
  });
});
