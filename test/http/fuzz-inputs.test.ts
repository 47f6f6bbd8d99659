import fc from 'fast-check';
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizationUrl, signIn, startCurfew, STORE_KINDS, type Harness } from '../support/curfew.ts';
import { UserAgent, type Form } from '../support/user-agent.ts';

/**
 * "Bad input always gets a clear error and loses nothing; the server never answers 500 to a
 * client's mistake." Property-based: malformed, oversized, repeated, odd-unicode and
 * wrong-content-type input at every public endpoint and form Curfew adds, on both stores
 * (Redis' Lua and cjson see the strings too). Runs are bounded so the suite stays fast.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 30);

const RAW_VALUES = ['%', '%ZZ', '%ED%A0%80', '%C0%AF', '%FF%FE'];
/** Numbers at and past the edges of what parsers take (ids, cursors, limits, timestamps). */
const EDGE_NUMBERS = ['99999999999999999999999-0', '-1', '1e309', 'NaN', '0x10', '9007199254740993'];

/** Text a client might send: any unicode (lone surrogates included), control characters, huge. */
const oddText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: 'grapheme', maxLength: 64 }),
  fc.constantFrom('', ' ', '\u0000', '\ud800', ...RAW_VALUES, ...EDGE_NUMBERS, '__proto__', 'constructor', '{"$gt":""}', '../../etc/passwd', 'a'.repeat(70_000)),
);
const contentTypes = fc.constantFrom(
  'application/x-www-form-urlencoded',
  'application/json',
  'text/plain',
  'multipart/form-data; boundary=x',
  'application/json; charset=utf-16',
  'application/x-www-form-urlencoded; charset=iso-8859-1',
  '',
);
/** A form or JSON body built from pairs, names repeated as they come (`a=1&a=2`, duplicate keys). */
const pairs = fc.array(fc.tuple(fc.oneof(fc.constantFrom('username', 'password', 'code', 'sid', 'client_id', 'client_secret', 'csrf', 'roles', 'policy'), oddText), oddText), { maxLength: 6 });

/**
 * Percent-encodes every byte a client could send, lone surrogates included (as WTF-8, the bytes
 * a careless client writes), and lets raw `%` sequences through when asked: `%ZZ`, `%ED%A0%80`.
 */
function pct(s: string): string {
  if (RAW.has(s)) return s;
  let out = '';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    const bytes = code >= 0xd800 && code <= 0xdfff
      ? Buffer.from([0xe0 | (code >> 12), 0x80 | ((code >> 6) & 0x3f), 0x80 | (code & 0x3f)])
      : Buffer.from(ch, 'utf8');
    out += /^[A-Za-z0-9_.~-]$/.test(ch) ? ch : [...bytes].map((b) => `%${b.toString(16).padStart(2, '0').toUpperCase()}`).join('');
  }
  return out;
}
const RAW = new Set(RAW_VALUES);

function encode(type: string, fields: Array<[string, string]>): string {
  if (type.startsWith('application/json')) {
    return `{${fields.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',')}}`;
  }
  return fields.map(([k, v]) => `${pct(k)}=${pct(v)}`).join('&');
}

interface Answer {
  status: number;
  type: string;
  text: string;
}

async function send(url: string, init: RequestInit): Promise<Answer> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
}

/** Never a 5xx; a JSON error names itself (`error`), so a client knows what to fix. */
function clear(answer: Answer, what: string): void {
  expect(answer.status, `${what}: ${answer.text.slice(0, 300)}`).toBeLessThan(500);
  if (answer.status >= 400 && answer.type.includes('json') && answer.text) {
    expect(typeof (JSON.parse(answer.text) as { error?: unknown }).error, `${what}: ${answer.text.slice(0, 300)}`).toBe('string');
  }
}

describe.each(STORE_KINDS)('malformed input never gets a 5xx (%s store)', (kind) => {
  let h: Harness;
  let admin: string;
  let sid: string;
  const basic = (id: string, secret: string) => `Basic ${Buffer.from(`${id}:${secret}`).toString('base64')}`;

  beforeAll(async () => {
    h = await startCurfew(kind);
    admin = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
    sid = (await signIn(h, h.userAgent(), 'acme-app', 'alice')).claims.sid as string;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('the sign-in form, TOTP and enrollment forms of a live interaction', async () => {
    const ua = h.userAgent();
    const page = await ua.navigate((await authorizationUrl(await h.rp('acme-app'))).url.href);
    const login: Form = UserAgent.forms(page.html, page.url).find((f) => f.action.endsWith('/login'))!;
    expect(login).toBeDefined();
    const base = login.action.slice(0, -'/login'.length);
    const cookie = [...ua.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('/login', '/totp', '/enroll', '/confirm', '/continue', '/abort'), contentTypes, pairs, fc.boolean(), async (step, type, fields, withCsrf) => {
        const all: Array<[string, string]> = withCsrf ? [...Object.entries(login.fields), ...fields] : fields;
        const answer = await send(`${base}${step}`, { method: 'POST', headers: { 'content-type': type, cookie, accept: 'text/html' }, body: encode(type, all) });
        clear(answer, `${step} ${type}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('session status and activity, with any credentials and sid', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(['GET', '/session/status'], ['POST', '/session/status'], ['POST', '/session/activity']),
        contentTypes,
        pairs,
        fc.oneof(fc.constant(basic('acme-app', 'acme-app-secret-0123456789')), fc.constant(`Bearer ${'x'.repeat(40)}`), oddText.map((t) => `Basic ${Buffer.from(t).toString('base64')}`), fc.constant('')),
        fc.boolean(),
        async ([method, path], type, fields, authorization, realSid) => {
          const all: Array<[string, string]> = realSid ? [['sid', sid], ...fields] : fields;
          const headers: Record<string, string> = { 'content-type': type };
          if (authorization) headers.authorization = authorization;
          const query = method === 'GET' ? `?${encode('form', all)}` : '';
          const answer = await send(`${h.url}${path}${query}`, { method, headers, ...(method === 'GET' ? {} : { body: encode(type, all) }) });
          clear(answer, `${method} ${path} ${type}`);
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('the token endpoint, with any grant and parameters', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom('refresh_token', 'authorization_code', 'client_credentials', 'password', ''), contentTypes, pairs, async (grant, type, fields) => {
        const answer = await send(`${h.url}/token`, {
          method: 'POST',
          headers: { 'content-type': type, authorization: basic('acme-app', 'acme-app-secret-0123456789') },
          body: encode(type, [['grant_type', grant], ...fields]),
        });
        clear(answer, `token ${grant} ${type}`);
      }),
      { numRuns: RUNS },
    );
  });

  it('admin API writes: any JSON value as a policy, user or client, created or patched', async () => {
    const { users } = await (await fetch(`${h.url}/admin/api/v1/orgs/acme/users`, { headers: { authorization: `Bearer ${admin}` } })).json() as { users: Array<{ id: string }> };
    const someone = users[0]!.id;
    const targets: Array<[string, string]> = [
      ['PUT', '/orgs/acme/policy'],
      ['POST', '/orgs/acme/users'],
      ['PATCH', `/orgs/acme/users/${someone}`],
      ['POST', '/orgs/acme/clients'],
      ['PATCH', '/orgs/acme/clients/acme-other'],
    ];
    const policyish = fc.record(
      {
        idleTimeoutSeconds: fc.oneof(fc.integer(), fc.double(), oddText),
        absoluteTimeoutSeconds: fc.oneof(fc.integer(), oddText),
        rules: fc.array(fc.record({ name: oddText, match: fc.record({ networks: fc.array(oddText), roles: fc.array(oddText) }, { requiredKeys: [] }) }, { requiredKeys: [] }), { maxLength: 3 }),
        username: oddText,
        password: oddText,
        roles: fc.oneof(fc.array(oddText), oddText),
        client_id: oddText,
        redirect_uris: fc.oneof(fc.array(oddText), oddText),
        backchannel_logout_uri: oddText,
      },
      { requiredKeys: [] },
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...targets), fc.oneof(fc.json({ maxDepth: 3 }), policyish.map((v) => JSON.stringify(v)), oddText), fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded'), async ([method, path], body, type) => {
        const answer = await send(`${h.url}/admin/api/v1${path}`, { method, headers: { authorization: `Bearer ${admin}`, 'content-type': type }, body });
        clear(answer, `${method} ${path} ${type} ${body.slice(0, 80)}`);
        // A rejected write changes nothing: the policy stays valid and readable.
        if (answer.status >= 400 && path.endsWith('/policy')) {
          expect((await fetch(`${h.url}/admin/api/v1/orgs/acme/policy`, { headers: { authorization: `Bearer ${admin}` } })).status).toBe(200);
        }
      }),
      { numRuns: RUNS * 2 },
    );
  });

  it('admin API reads: any query on sessions, audit, explain and deliveries', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom('/orgs/acme/sessions', '/orgs/acme/audit', '/orgs/acme/policy/explain', '/orgs/acme/deliveries', '/orgs/acme/compliance'),
        fc.array(fc.tuple(fc.constantFrom('user', 'client', 'ip', 'type', 'session', 'since', 'until', 'cursor', 'state', 'format', 'limit'), oddText), { maxLength: 5 }),
        async (path, query) => {
          const answer = await send(`${h.url}/admin/api/v1${path}?${encode('form', query)}`, { headers: { authorization: `Bearer ${admin}` } });
          clear(answer, `GET ${path} ${JSON.stringify(query).slice(0, 120)}`);
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it('pages and forms outside an interaction: account, console, static, authorization', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(['POST', '/account/stay'], ['GET', '/account'], ['POST', '/admin/users'], ['POST', '/admin/policy'], ['GET', '/admin/login'], ['GET', '/admin/callback'], ['POST', '/admin/backchannel-logout'], ['GET', '/auth'], ['GET', '/session/end']),
        contentTypes,
        pairs,
        async ([method, path], type, fields) => {
          const query = method === 'GET' ? `?${encode('form', fields)}` : '';
          const answer = await send(`${h.url}${path}${query}`, { method, headers: { 'content-type': type, accept: 'text/html' }, ...(method === 'GET' ? {} : { body: encode(type, fields) }) });
          clear(answer, `${method} ${path}`);
        },
      ),
      { numRuns: RUNS },
    );
    await fc.assert(
      fc.asyncProperty(oddText, async (name) => {
        const answer = await send(`${h.url}/static/${pct(name)}`, {});
        clear(answer, `static ${name.slice(0, 40)}`);
      }),
      { numRuns: RUNS },
    );
  });
});
