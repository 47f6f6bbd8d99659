import fc from 'fast-check';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, signIn, startCurfew, STORE_KINDS, type Harness } from '../support/curfew.ts';
import { UserAgent, type Page } from '../support/user-agent.ts';

/**
 * Property-based: whatever a client sends to a public endpoint or form — malformed, oversized,
 * repeated, odd unicode, the wrong content type — the answer is a 4xx (or a success) with a
 * body, never a 5xx. Bounded runs, so the suite stays fast; a failure prints its shrunk input.
 */

const RUNS = { numRuns: 50 };

const oddText = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.constantFrom('', ' ', '\u0000', '%', '%ZZ', '%E0%A4%A', '\uD800', '\u202E\u0301\u200B', '{"', '[]', 'null', '-1', '1e309', '99999999999999999999999-0', '__proto__', 'constructor', '../../etc/passwd'),
  fc.integer({ min: 1, max: 4 }).map((n) => '𝕏'.repeat(n * 3000)),
  fc.constant('a'.repeat(70_000)),
);
const fieldName = fc.oneof(
  fc.constantFrom('username', 'password', 'code', 'csrf', 'sid', 'client_id', 'client_secret', 'grant_type', 'refresh_token', 'roles', 'user', 'client', 'ip', 'cursor', 'since', 'limit', 'type', 'state', '__proto__', 'constructor', 'toString', 'a[b]', 'a[]'),
  fc.string({ maxLength: 12 }),
);
const form = fc.array(fc.tuple(fieldName, oddText), { maxLength: 8 }).map((pairs) => new URLSearchParams(pairs).toString());
const json = fc.oneof(
  fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)),
  fc.dictionary(fieldName, fc.jsonValue({ maxDepth: 3 }), { maxKeys: 8 }).map((v) => JSON.stringify(v)),
  fc.constantFrom('{', '{"a":1,"a":2}', '[1,', '"\\ud800"', '{"__proto__":{"admin":true}}', '{"roles":"admin"}', 'null', ''),
);
const contentType = fc.constantFrom(
  'application/json', 'application/x-www-form-urlencoded', 'text/plain', 'multipart/form-data; boundary=x', 'application/json; charset=utf-16',
  'application/xml', 'application/x-www-form-urlencoded; charset=latin1', '', ';;;', 'application/json; charset=nope',
);
const body = fc.oneof(form, json, oddText);
const query = fc.array(fc.tuple(fieldName, oddText), { maxLength: 6 }).map((pairs) => new URLSearchParams(pairs).toString());

interface Answer {
  status: number;
  text: string;
}

async function send(url: string, init: { method: string; headers?: Record<string, string>; body?: string }): Promise<Answer> {
  const res = await fetch(url, { ...init, redirect: 'manual' });
  return { status: res.status, text: await res.text() };
}

/** Never a 5xx; a refusal says why (a non-empty body; JSON endpoints name an `error`). */
function expectClientAnswer(answer: Answer, jsonEndpoint: boolean): void {
  expect(answer.status, answer.text.slice(0, 300)).toBeLessThan(500);
  if (answer.status >= 400) {
    expect(answer.text.length, `status ${answer.status} without a body`).toBeGreaterThan(0);
    if (jsonEndpoint && answer.status !== 413) expect(JSON.parse(answer.text)).toHaveProperty('error');
  }
}

const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

describe.each(STORE_KINDS)('every public endpoint and form answers junk with a 4xx, never a 5xx (%s store)', (kind) => {
  let h: Harness;
  let admin: string;
  let sid: string;
  let signedIn: UserAgent;
  let loginPage: Page;
  let loginBrowser: UserAgent;

  beforeAll(async () => {
    h = await startCurfew(kind);
    admin = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
    signedIn = h.userAgent();
    sid = (await signIn(h, signedIn, 'acme-app', 'alice')).claims.sid as string;
    loginBrowser = h.userAgent({ ip: '198.51.100.7' });
    loginPage = await loginBrowser.navigate((await authorizationUrl(await h.rp('acme-app'))).url.href);
    // Throwaway targets for PATCH, so junk that happens to be valid changes nothing the test needs.
    const put = (path: string, payload: unknown) =>
      fetch(`${h.url}/admin/api/v1${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(payload) });
    expect((await put('/orgs/acme/users', { username: 'prop-user', password: 'prop password 1' })).status).toBe(201);
    expect((await put('/orgs/acme/clients', { client_id: 'prop-app', client_secret: 'prop-app-secret-0123456789', redirect_uris: ['https://prop.example/cb'] })).status).toBe(201);
  }, 30_000);
  afterAll(async () => {
    await h?.close();
  });

  /** The browser's cookies and the page's CSRF token, plus whatever fields the run adds. */
  const formAction = (page: Page, suffix: string) => {
    const found = UserAgent.forms(page.html, page.url).find((f) => new URL(f.action).pathname.endsWith(suffix));
    if (!found) throw new Error(`no ${suffix} form`);
    return found;
  };
  const cookieHeader = (ua: UserAgent) => [...ua.cookies].map(([k, v]) => `${k}=${v}`).join('; ');

  it('the login form', async () => {
    const { action, fields } = formAction(loginPage, '/login');
    await fc.assert(
      fc.asyncProperty(contentType, form, fc.boolean(), async (type, extra, withCsrf) => {
        const payload = withCsrf ? `csrf=${encodeURIComponent(fields.csrf ?? '')}&${extra}` : extra;
        expectClientAnswer(await send(action, { method: 'POST', headers: { 'content-type': type, cookie: cookieHeader(loginBrowser), 'x-forwarded-for': '198.51.100.7' }, body: payload }), false);
      }),
      RUNS,
    );
  });

  it('the TOTP form (no pending step: every post is refused)', async () => {
    const { action, fields } = formAction(loginPage, '/login');
    const totp = action.replace(/\/login$/, '/totp');
    await fc.assert(
      fc.asyncProperty(contentType, body, async (type, extra) => {
        // URLSearchParams, not encodeURIComponent: a lone surrogate is sent (as U+FFFD) rather than thrown.
        const payload = new URLSearchParams({ csrf: fields.csrf ?? '', code: extra.slice(0, 100) }).toString();
        expectClientAnswer(await send(totp, { method: 'POST', headers: { 'content-type': type, cookie: cookieHeader(loginBrowser) }, body: payload }), false);
      }),
      RUNS,
    );
  });

  it('GET /session/status', async () => {
    await fc.assert(
      fc.asyncProperty(query, fc.boolean(), async (q, authenticated) => {
        const headers: Record<string, string> = authenticated ? { authorization: basic('acme-app', 'acme-app-secret-0123456789') } : {};
        expectClientAnswer(await send(`${h.url}/session/status?${q}`, { method: 'GET', headers }), true);
      }),
      RUNS,
    );
  });

  it('POST /session/activity', async () => {
    await fc.assert(
      fc.asyncProperty(contentType, body, fc.constantFrom('basic', 'bearer-junk', 'none'), async (type, payload, auth) => {
        const headers: Record<string, string> = { 'content-type': type };
        if (auth === 'basic') headers.authorization = basic('acme-app', 'acme-app-secret-0123456789');
        if (auth === 'bearer-junk') headers.authorization = `Bearer ${payload.slice(0, 2000).replace(/[^\x21-\x7e]/g, 'x') || 'x'}`;
        expectClientAnswer(await send(`${h.url}/session/activity`, { method: 'POST', headers, body: payload }), true);
      }),
      RUNS,
    );
    // Still alive: junk moved nothing it should not have.
    const status = await send(`${h.url}/session/status?sid=${sid}`, { method: 'GET', headers: { authorization: basic('acme-app', 'acme-app-secret-0123456789') } });
    expect(JSON.parse(status.text)).toMatchObject({ active: true });
  });

  it('the account page form', async () => {
    const account = await signedIn.navigate('/account');
    const { action, fields } = formAction(account, '/stay');
    await fc.assert(
      fc.asyncProperty(contentType, body, fc.boolean(), async (type, extra, withCsrf) => {
        const payload = withCsrf ? `csrf=${encodeURIComponent(fields.csrf ?? '')}&${extra}` : extra;
        expectClientAnswer(await send(action, { method: 'POST', headers: { 'content-type': type, cookie: cookieHeader(signedIn) }, body: payload }), false);
      }),
      RUNS,
    );
  });

  it('POST /token', async () => {
    await fc.assert(
      fc.asyncProperty(contentType, body, fc.boolean(), async (type, payload, authenticated) => {
        const headers: Record<string, string> = { 'content-type': type };
        if (authenticated) headers.authorization = basic('acme-app', 'acme-app-secret-0123456789');
        expectClientAnswer(await send(`${h.url}/token`, { method: 'POST', headers, body: payload }), true);
      }),
      RUNS,
    );
  });

  const adminWrites: Array<[string, string]> = [
    ['PUT', '/orgs/acme/policy'],
    ['POST', '/orgs/acme/users'],
    ['PATCH', '/orgs/acme/users/prop-user'],
    ['POST', '/orgs/acme/clients'],
    ['PATCH', '/orgs/acme/clients/prop-app'],
    ['POST', '/orgs/acme/deliveries/junk/retry'],
  ];
  it.each(adminWrites)('admin API %s %s with a valid admin token', async (method, path) => {
    await fc.assert(
      fc.asyncProperty(contentType, body, async (type, payload) => {
        const headers = { authorization: `Bearer ${admin}`, 'content-type': type };
        expectClientAnswer(await send(`${h.url}/admin/api/v1${path}`, { method, headers, body: payload }), true);
      }),
      RUNS,
    );
  });

  const adminReads = ['/orgs/acme/audit', '/orgs/acme/policy/explain', '/orgs/acme/sessions', '/orgs/acme/deliveries', '/orgs/acme/users', '/orgs/acme/clients'];
  // Inputs that once answered 500 are always tried, before the random ones.
  const known: Array<[string]> = [['cursor=99999999999999999999999-0'], ['since=275760-09-13T00:00:00.001Z'], ['limit=1e309'], ['user=__proto__&client=constructor'], ['ip=%E0%A4%A']];
  it.each(adminReads)('admin API GET %s with junk queries', async (path) => {
    await fc.assert(
      fc.asyncProperty(query, async (q) => {
        expectClientAnswer(await send(`${h.url}/admin/api/v1${path}?${q}`, { method: 'GET', headers: { authorization: `Bearer ${admin}` } }), true);
      }),
      { ...RUNS, examples: known },
    );
  });
  const pages: Array<[string, string]> = [
    ['POST', '/admin/users'], ['POST', '/admin/policy'], ['POST', '/admin/backchannel-logout'], ['POST', '/admin/logout'],
    ['GET', '/admin/login'], ['GET', '/admin/callback'], ['GET', '/admin/explain'], ['GET', '/auth'], ['GET', '/session/end'],
  ];
  it.each(pages)('%s %s outside any session (console forms, authorization, sign-out)', async (method, path) => {
    await fc.assert(
      fc.asyncProperty(contentType, query, body, async (type, q, payload) => {
        const headers = { 'content-type': type, accept: 'text/html' };
        const init = method === 'GET' ? { method, headers } : { method, headers, body: payload };
        expectClientAnswer(await send(`${h.url}${path}?${q}`, init), false);
      }),
      RUNS,
    );
  });

  it('static files by any name', async () => {
    await fc.assert(
      fc.asyncProperty(oddText, async (name) => {
        expectClientAnswer(await send(`${h.url}/static/${encodeURIComponent(name.replace(/[\ud800-\udfff]/g, ''))}`, { method: 'GET' }), false);
      }),
      { ...RUNS, examples: [['__proto__'], ['constructor'], ['toString'], ['..%2fpackage.json']] },
    );
  });
});
