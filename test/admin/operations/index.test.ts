import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ACTIONS, type AdminAction } from '../../../src/admin/operations/index.ts';
import { totpCode } from '../../../src/mfa/totp.ts';
import type { Delivery } from '../../../src/logout/types.ts';
import { PASSWORDS, signIn, startCurfew, testSeed, type Harness } from '../../support/curfew.ts';
import type { UserAgent } from '../../support/user-agent.ts';

const API = '/admin/api/v1';
const BOB_SECRET = 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP';

/** What an adapter answered: whether it worked, or the error's status and the fields it named. */
interface Outcome {
  ok: boolean;
  status?: number;
  fields?: string[];
}

/**
 * Issue 12 item 1: the JSON API and the console are adapters over one operations layer. Every
 * operation runs through both, on twin subjects; the outcome (success, or the error status and
 * bad fields) and the `admin.write` audit record (action, before, after) must be the same.
 */
describe('every admin operation through the API and the console', () => {
  let h: Harness;
  let token: string;
  let ua: UserAgent;
  let csrf: string;
  const seen = new Set<AdminAction>();

  beforeAll(async () => {
    const seed = testSeed();
    const bob = seed.orgs[0]!.users.find((u) => u.username === 'bob') as Record<string, unknown>;
    bob.totpSecret = BOB_SECRET;
    const twins = ['api', 'console'].flatMap((side) => ['edit', 'roles', 'pw', 'gen', 'off', 'on', 'totp', 'del', 'revoke'].map((what) => ({
      username: `${what}-${side}`, password: 'twin password 1', roles: ['staff'], ...(what === 'on' ? { disabled: true } : {}),
      ...(what === 'totp' ? { totpSecret: BOB_SECRET } : {}),
    })));
    (seed.orgs[0]!.users as Array<Record<string, unknown>>).push(...twins);
    const client = (id: string) => ({ client_id: id, client_secret: `${id}-secret-0123456789`, redirect_uris: ['http://127.0.0.1:9/callback'] });
    (seed.orgs[0]!.clients as Array<Record<string, unknown>>).push(...['api', 'console'].flatMap((side) => ['edit', 'rotate', 'del'].map((what) => client(`${what}-${side}`))));
    h = await startCurfew('memory', { seed });
    token = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;

    ua = h.userAgent();
    let page = await ua.navigate(`${h.url}/admin/login?org=acme`);
    page = await ua.submit(page, '/login', { username: 'bob', password: PASSWORDS.bob });
    page = await ua.submit(page, '/totp', { code: await totpCode(BOB_SECRET, h.totp.now()) });
    csrf = /name="csrf" value="([^"]+)"/.exec(page.html)?.[1] ?? '';
    expect(csrf).not.toBe('');
  });
  afterAll(async () => {
    await h?.close();
  });

  async function viaApi(method: string, path: string, body?: unknown): Promise<Outcome> {
    const res = await fetch(`${h.url}${API}/orgs/acme${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    if (res.ok) return { ok: true };
    const json = JSON.parse(text) as { fields?: Array<{ field: string }> };
    return { ok: false, status: res.status, ...(json.fields ? { fields: json.fields.map((f) => f.field).sort() } : {}) };
  }

  async function viaConsole(path: string, form: Record<string, string> = {}): Promise<Outcome> {
    const page = await ua.request(`${h.url}/admin${path}`, { form: { csrf, ...form } });
    if (page.status === 302 || page.status === 200) return { ok: true };
    const fields = [...page.html.matchAll(/<li><code>([^<]+)<\/code>/g)].map((m) => m[1]!).sort();
    return { ok: false, status: page.status, ...(page.status === 400 ? { fields } : {}) };
  }

  const userId = async (name: string) => (await h.store.directory.findUserByName('acme', name))!.id;

  /** The last admin write, with the twin's names and ids, the actor and instants taken out. */
  async function lastWrite(twin: { ids: string[]; names: string[] }) {
    const [event] = (await h.store.audit.query({ org: 'acme', type: 'admin.write', limit: 1 })).items;
    let text = JSON.stringify(event?.data ?? null);
    for (const id of twin.ids) text = text.replaceAll(id, '<id>');
    for (const name of twin.names) text = text.replaceAll(name, '<name>');
    text = text.replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>').replace(/usr_[A-Za-z0-9_-]+/g, '<usr>');
    const data = JSON.parse(text) as { action: AdminAction } | null;
    if (data) seen.add(data.action);
    return { id: event?.id, data };
  }

  /** Runs one operation through each adapter on its twin and compares outcome and audit. */
  async function compare(name: string, run: (side: 'api' | 'console') => Promise<{ outcome: Outcome; twin: { ids: string[]; names: string[] } }>, expected: Partial<Outcome> & { action?: AdminAction }) {
    const api = await run('api');
    const apiWrite = await lastWrite(api.twin);
    const con = await run('console');
    const conWrite = await lastWrite(con.twin);
    expect(api.outcome, `${name}: API`).toMatchObject({ ok: expected.ok ?? true, ...(expected.status ? { status: expected.status } : {}) });
    expect(con.outcome, `${name}: console and API agree`).toEqual(api.outcome);
    if (expected.action) {
      expect(apiWrite.data?.action, `${name}: audit action`).toBe(expected.action);
      expect(conWrite.data, `${name}: the console's audit record is the API's`).toEqual(apiWrite.data);
      expect(conWrite.id).not.toBe(apiWrite.id);
    } else {
      // A refused operation writes nothing, through either adapter.
      expect(conWrite.id, `${name}: nothing audited`).toBe(apiWrite.id);
    }
  }

  const twinUser = async (what: string, side: string) => {
    const username = `${what}-${side}`;
    return { id: await userId(username), username, twin: { ids: [await userId(username)], names: [username] } };
  };

  it('creates a user, and refuses a bad one naming the same fields', async () => {
    await compare('create user', async (side) => {
      const username = `new-${side}`;
      const input = { username, password: 'new password 12', roles: ['staff', 'ops'] };
      const outcome = side === 'api' ? await viaApi('POST', '/users', input) : await viaConsole('/users', { ...input, roles: 'staff, ops' });
      return { outcome, twin: { ids: [await userId(username)], names: [username] } };
    }, { action: 'user.create' });
    await compare('create a bad user', async (side) => {
      const input = { username: 'Not Valid!', password: 'short', roles: ['staff'] };
      const outcome = side === 'api' ? await viaApi('POST', '/users', input) : await viaConsole('/users', { ...input, roles: 'staff' });
      return { outcome, twin: { ids: [], names: [] } };
    }, { ok: false, status: 400 });
  });

  it('sets roles and disables and enables users', async () => {
    await compare('set roles', async (side) => {
      const u = await twinUser('roles', side);
      const outcome = side === 'api' ? await viaApi('PATCH', `/users/${u.username}`, { roles: ['staff', 'auditor'] }) : await viaConsole(`/users/${u.id}/roles`, { roles: 'staff auditor' });
      return { outcome, twin: u.twin };
    }, { action: 'user.update' });
    await compare('disable', async (side) => {
      const u = await twinUser('off', side);
      const outcome = side === 'api' ? await viaApi('PATCH', `/users/${u.id}`, { disabled: true }) : await viaConsole(`/users/${u.id}/disable`);
      return { outcome, twin: u.twin };
    }, { action: 'user.update' });
    await compare('enable', async (side) => {
      const u = await twinUser('on', side);
      const outcome = side === 'api' ? await viaApi('PATCH', `/users/${u.id}`, { disabled: false }) : await viaConsole(`/users/${u.id}/enable`);
      return { outcome, twin: u.twin };
    }, { action: 'user.update' });
    expect((await h.store.directory.findUserByName('acme', 'off-console'))?.disabled).toBe(true);
    expect((await h.store.directory.findUserByName('acme', 'on-console'))?.disabled).toBe(false);
  });

  it('sets a password, resets one to a generated password, and refuses a short one', async () => {
    await compare('set password', async (side) => {
      const u = await twinUser('pw', side);
      const outcome = side === 'api' ? await viaApi('POST', `/users/${u.username}/password`, { password: 'a new password 1' }) : await viaConsole(`/users/${u.id}/password`, { password: 'a new password 1' });
      return { outcome, twin: u.twin };
    }, { action: 'user.password.set' });
    await compare('reset password', async (side) => {
      const u = await twinUser('gen', side);
      const outcome = side === 'api' ? await viaApi('POST', `/users/${u.id}/password`, {}) : await viaConsole(`/users/${u.id}/password`, { password: '' });
      return { outcome, twin: u.twin };
    }, { action: 'user.password.set' });
    await compare('short password', async (side) => {
      const u = await twinUser('pw', side);
      const outcome = side === 'api' ? await viaApi('POST', `/users/${u.id}/password`, { password: 'short' }) : await viaConsole(`/users/${u.id}/password`, { password: 'short' });
      return { outcome, twin: u.twin };
    }, { ok: false, status: 400 });
  });

  it('resets TOTP under one action name, user.totp.reset', async () => {
    await compare('reset TOTP', async (side) => {
      const u = await twinUser('totp', side);
      const outcome = side === 'api' ? await viaApi('POST', `/users/${u.username}/totp/reset`) : await viaConsole(`/users/${u.id}/totp-reset`);
      return { outcome, twin: u.twin };
    }, { action: 'user.totp.reset' });
  });

  it("revokes one session and a user's sessions", async () => {
    const sessionsOf = async (username: string) => h.curfew.sessions.list('acme', { user: await userId(username) });
    // Twin sessions: alice signs in to one app twice, from two browsers.
    await signIn(h, h.userAgent(), 'acme-app', 'alice');
    await signIn(h, h.userAgent(), 'acme-app', 'alice');
    await compare('revoke a session', async (side) => {
      const [session] = await sessionsOf('alice');
      const id = session!.id;
      const outcome = side === 'api' ? await viaApi('DELETE', `/sessions/${id}`) : await viaConsole(`/sessions/${id}/revoke`);
      return { outcome, twin: { ids: [id, ...Object.values(session!.rps).map((rp) => rp.sid)], names: [] } };
    }, { action: 'session.revoke' });
    await compare('revoke an unknown session', async (side) => {
      const outcome = side === 'api' ? await viaApi('DELETE', '/sessions/nope') : await viaConsole('/sessions/nope/revoke');
      return { outcome, twin: { ids: [], names: [] } };
    }, { ok: false, status: 404 });
    await compare("revoke a user's sessions", async (side) => {
      const u = await twinUser('revoke', side);
      const outcome = side === 'api' ? await viaApi('DELETE', `/users/${u.username}/sessions`) : await viaConsole(`/users/${u.id}/sessions/revoke`);
      return { outcome, twin: u.twin };
    }, { action: 'user.sessions.revoke' });
  });

  it('deletes a user', async () => {
    await compare('delete user', async (side) => {
      const u = await twinUser('del', side);
      const outcome = side === 'api' ? await viaApi('DELETE', `/users/${u.username}`) : await viaConsole(`/users/${u.id}/delete`);
      return { outcome, twin: u.twin };
    }, { action: 'user.delete' });
    expect(await h.store.directory.findUserByName('acme', 'del-console')).toBeUndefined();
  });

  it('registers, edits, rotates and deletes clients, and refuses a private back-channel URI alike', async () => {
    const input = (id: string) => ({ client_id: id, redirect_uris: ['https://app.example/cb'], backchannel_logout_uri: 'https://app.example/bc', client_secret: 'a chosen secret 0123456789' });
    await compare('create client', async (side) => {
      const id = `new-${side}`;
      const outcome = side === 'api' ? await viaApi('POST', '/clients', input(id)) : await viaConsole('/clients', { ...input(id), redirect_uris: 'https://app.example/cb' });
      return { outcome, twin: { ids: [id], names: [] } };
    }, { action: 'client.create' });
    await compare('create a client with a loopback back-channel URI', async (side) => {
      const id = `bad-${side}`;
      const bad = { ...input(id), backchannel_logout_uri: 'http://127.0.0.1:8080/bc' };
      const outcome = side === 'api' ? await viaApi('POST', '/clients', bad) : await viaConsole('/clients', { ...bad, redirect_uris: 'https://app.example/cb' });
      return { outcome, twin: { ids: [id], names: [] } };
    }, { ok: false, status: 400 });
    await compare('update client', async (side) => {
      const id = `edit-${side}`;
      const outcome = side === 'api' ? await viaApi('PATCH', `/clients/${id}`, { redirect_uris: ['https://edited.example/cb'] }) : await viaConsole(`/clients/${id}`, { redirect_uris: 'https://edited.example/cb' });
      return { outcome, twin: { ids: [id], names: [] } };
    }, { action: 'client.update' });
    await compare('rotate secret', async (side) => {
      const id = `rotate-${side}`;
      const outcome = side === 'api' ? await viaApi('POST', `/clients/${id}/secret`) : await viaConsole(`/clients/${id}/secret`);
      return { outcome, twin: { ids: [id], names: [] } };
    }, { action: 'client.secret.rotate' });
    await compare("the console's own client", async (side) => {
      const outcome = side === 'api' ? await viaApi('POST', '/clients/curfew-console-acme/secret') : await viaConsole('/clients/curfew-console-acme/secret');
      return { outcome, twin: { ids: [], names: [] } };
    }, { ok: false, status: 409 });
    await compare('delete client', async (side) => {
      const id = `del-${side}`;
      const outcome = side === 'api' ? await viaApi('DELETE', `/clients/${id}`) : await viaConsole(`/clients/${id}/delete`);
      return { outcome, twin: { ids: [id], names: [] } };
    }, { action: 'client.delete' });
  });

  it('changes the policy, and refuses a bad one naming every bad field alike', async () => {
    const policy = { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 43200, warningSeconds: 120, mfa: 'off' };
    await compare('change policy', async (side) => {
      const outcome = side === 'api' ? await viaApi('PUT', '/policy', policy) : await viaConsole('/policy', { policy: JSON.stringify(policy) });
      return { outcome, twin: { ids: [], names: [] } };
    }, { action: 'policy.change' });
    const bad = { idleTimeoutSeconds: 10, absoluteTimeoutSeconds: 5, rules: [{ match: { networks: ['10.0.0.0/99'] } }] };
    await compare('bad policy', async (side) => {
      const outcome = side === 'api' ? await viaApi('PUT', '/policy', bad) : await viaConsole('/policy', { policy: JSON.stringify(bad) });
      return { outcome, twin: { ids: [], names: [] } };
    }, { ok: false, status: 400 });
    const api = await viaApi('PUT', '/policy', bad);
    expect(api.fields).toEqual(expect.arrayContaining(['idleTimeoutSeconds', 'absoluteTimeoutSeconds', 'rules.0.name', 'rules.0.match.networks.0', 'rules.0']));
  });

  it('previews a policy alike through both, writing nothing, and refuses a bad one alike', async () => {
    const policy = { idleTimeoutSeconds: 180, absoluteTimeoutSeconds: 43200, warningSeconds: 60, mfa: 'off' };
    const live = (await h.curfew.sessions.list('acme')).length;
    expect(live).toBeGreaterThan(0);
    let api: { endNow: number; shorter: number; longer: number; unchanged: number; sessions: number; appSessionsEndNow: number; endedSessions: number; affected: Array<{ session: string; outcome: string }> } | undefined;
    let shown: string[] = [];
    await compare('preview policy', async (side) => {
      if (side === 'api') {
        const res = await fetch(`${h.url}${API}/orgs/acme/policy/preview`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(policy) });
        api = ((await res.json()) as { preview: NonNullable<typeof api> }).preview;
        return { outcome: { ok: res.ok }, twin: { ids: [], names: [] } };
      }
      const page = await ua.request(`${h.url}/admin/policy`, { form: { csrf, view: 'json', action: 'preview', policy: JSON.stringify(policy) } });
      shown = [/<p class="summary"[^>]*>/.exec(page.html)?.[0] ?? '', ...[...page.html.matchAll(/<tr data-session="([^"]+)" class="outcome-(\w+)"/g)].map((m) => `${m[1]} ${m[2]}`)];
      return { outcome: { ok: page.status === 200 }, twin: { ids: [], names: [] } };
    }, {});
    // The same counts and the same sessions, each with the same outcome.
    expect(api!.sessions).toBe(live);
    expect(api!.shorter).toBe(live);
    for (const key of ['sessions', 'endNow', 'shorter', 'longer', 'unchanged', 'appSessionsEndNow', 'endedSessions'] as const) {
      const attribute = `data-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}="${api![key]}"`;
      expect(shown[0], key).toContain(attribute);
    }
    expect(shown.slice(1)).toEqual(api!.affected.map((a) => `${a.session} ${a.outcome}`));
    // A preview is not a save.
    expect((await h.store.directory.getOrg('acme'))!.policy.idleTimeoutSeconds).toBe(900);
    expect((await h.curfew.sessions.list('acme')).length).toBe(live);

    const bad = { idleTimeoutSeconds: 10, absoluteTimeoutSeconds: 5, rules: [{ match: { networks: ['10.0.0.0/99'] } }] };
    await compare('preview a bad policy', async (side) => {
      const outcome = side === 'api' ? await viaApi('POST', '/policy/preview', bad) : await viaConsole('/policy', { view: 'json', action: 'preview', policy: JSON.stringify(bad) });
      return { outcome, twin: { ids: [], names: [] } };
    }, { ok: false, status: 400 });
    expect((await viaApi('POST', '/policy/preview', bad)).fields).toEqual((await viaApi('PUT', '/policy', bad)).fields);
  });

  it('retries a dead delivery, and refuses a live one with 409 in both', async () => {
    const delivery = (id: string): Delivery => ({
      id, org: 'acme', client: 'acme-app', uri: 'https://app.example/bc', sub: 'x', sid: 'y', reason: 'admin', session: 'z',
      endedAt: 0, enqueuedAt: 0, attempts: 0, state: 'pending', nextAttemptAt: Date.now() + 3_600_000,
    });
    await h.store.deliveries.enqueue(['dead-api', 'dead-console', 'live-api', 'live-console'].map(delivery));
    await h.store.deliveries.bury('dead-api', 8, 'HTTP 500');
    await h.store.deliveries.bury('dead-console', 8, 'HTTP 500');
    await compare('retry a dead delivery', async (side) => {
      const outcome = side === 'api' ? await viaApi('POST', '/deliveries/dead-api/retry') : await viaConsole('/deliveries/dead-console/retry');
      return { outcome, twin: { ids: [`dead-${side}`], names: [] } };
    }, { action: 'delivery.retry' });
    await compare('retry a live delivery', async (side) => {
      const outcome = side === 'api' ? await viaApi('POST', '/deliveries/live-api/retry') : await viaConsole('/deliveries/live-console/retry');
      return { outcome, twin: { ids: [], names: [] } };
    }, { ok: false, status: 409 });
  });

  it('has exercised every admin action through both adapters', () => {
    expect([...seen].sort()).toEqual([...ADMIN_ACTIONS].sort());
  });
});
