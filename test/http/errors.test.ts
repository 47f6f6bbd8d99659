import { connect, type AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { PassThrough } from 'node:stream';
import Router from '@koa/router';
import * as oidc from 'openid-client';
import Koa, { type Context } from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConflictError, CurfewError, StoreUnavailableError, ValidationError } from '../../src/errors.ts';
import { adminErrorBody, answerFor, errorHandler, oidcErrorBody, retryAfterOnUnavailable, sendError } from '../../src/http/errors.ts';
import { renderPage } from '../../src/http/views.ts';
import { createLogger } from '../../src/logger.ts';
import { startCurfew, type Harness } from '../support/curfew.ts';

/** Throws, by name, each kind of error a route can raise; the same set under every surface. */
const ERRORS: Record<string, () => unknown> = {
  validation: () => new ValidationError([{ field: 'username', message: 'required' }, { field: 'roles.0', message: 'unknown role' }], 'the user is invalid'),
  conflict: () => new ConflictError('client_id', 'client_id is not available'),
  cursor: () => new CurfewError('invalid_cursor'),
  missing: () => new CurfewError('not_found', 'client not found', { detail: 'secret-detail: asked by org other' }),
  limited: () => new CurfewError('rate_limited', 'too many activity reports for this session; retry later', { retryAfterSeconds: 42 }),
  unavailable: () => new StoreUnavailableError({ cause: new Error('connect ECONNREFUSED 10.1.2.3:6379') }),
  client: () => new CurfewError('invalid_client', 'client authentication failed'),
  token: () => new CurfewError('invalid_token', 'a bearer access token is required'),
  scope: () => new CurfewError('insufficient_scope', 'the admin scope is required'),
  bug: () => new TypeError('cannot read properties of undefined (reading "passwordHash")'),
  koa: () => Object.assign(new Error('request entity too large'), { status: 413, expose: true }),
};

describe('one error model, rendered three ways', () => {
  let server: Server;
  let base: string;
  const logLines: string[] = [];

  beforeAll(async () => {
    const sink = new PassThrough();
    sink.on('data', (chunk: Buffer) => logLines.push(...chunk.toString().split('\n').filter(Boolean)));
    const app = new Koa();
    const router = new Router();
    const thrower = (ctx: Context) => {
      throw ERRORS[String(ctx.params.kind)]!();
    };
    router.get('/session/fail/:kind', thrower);
    router.get('/admin/api/fail/:kind', thrower);
    router.get('/page/fail/:kind', thrower);
    // A page that answers a refusal in its own words: the status comes from the code.
    router.get('/form/:code', (ctx) => renderPage(ctx, 'error', { title: 'form', message: 'fix the form', code: '' }, ctx.params.code as 'rate_limited'));
    // A route that must answer JSON whatever the client accepts (an RP's back-channel receiver).
    router.post('/receiver', (ctx) => {
      sendError(ctx, new CurfewError('invalid_request', 'the logout token is not valid'), 'oidc');
    });
    app.use(retryAfterOnUnavailable);
    app.use(errorHandler(createLogger('debug', sink)));
    app.use(router.routes());
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const get = async (path: string, accept = 'text/html') => {
    const res = await fetch(`${base}${path}`, { headers: { accept } });
    const text = await res.text();
    return { status: res.status, headers: res.headers, text, json: () => JSON.parse(text) as Record<string, unknown> };
  };

  describe('OIDC error JSON (the session endpoints)', () => {
    it('is { error, error_description } with the table\'s status and no fields', async () => {
      const res = await get('/session/fail/validation');
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toContain('application/json');
      expect(res.headers.get('cache-control')).toBe('no-store');
      expect(res.json()).toEqual({ error: 'invalid_request', error_description: 'the user is invalid' });
    });

    it('challenges a failed client authentication with Basic (RFC 6749 §5.2)', async () => {
      const res = await get('/session/fail/client');
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe('Basic realm="curfew", error="invalid_client"');
      expect(res.json()).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    });

    it('tells a rate-limited client when to come back', async () => {
      const res = await get('/session/fail/limited');
      expect(res.status).toBe(429);
      expect(res.headers.get('retry-after')).toBe('42');
      expect(res.json()).toMatchObject({ error: 'rate_limited' });
    });

    it('answers a store outage 503 temporarily_unavailable with Retry-After, and no address of the store', async () => {
      const res = await get('/session/fail/unavailable');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'The service is briefly unavailable. Try again in a few seconds.' });
      expect(res.text).not.toContain('10.1.2.3');
    });

    it('answers JSON from a route that asks for it, whatever the client accepts', async () => {
      const res = await fetch(`${base}/receiver`, { method: 'POST', headers: { accept: 'text/html' } });
      expect(res.status).toBe(400);
      expect(await res.json()).toEqual({ error: 'invalid_request', error_description: 'the logout token is not valid' });
    });
  });

  describe('admin API JSON', () => {
    it('names every bad field', async () => {
      const res = await get('/admin/api/fail/validation');
      expect(res.status).toBe(400);
      expect(res.json()).toEqual({
        error: 'invalid_request',
        error_description: 'the user is invalid',
        fields: [{ field: 'username', message: 'required' }, { field: 'roles.0', message: 'unknown role' }],
      });
    });

    it.each([
      ['conflict', 409, 'conflict', 'client_id is not available'],
      ['cursor', 400, 'invalid_cursor', 'the audit cursor is not valid; use nextCursor from a previous page'],
      ['missing', 404, 'not_found', 'client not found'],
    ])('%s: %i %s', async (kind, status, error, description) => {
      const res = await get(`/admin/api/fail/${kind}`);
      expect(res.status).toBe(status);
      expect(res.json()).toMatchObject({ error, error_description: description });
    });

    it.each([
      ['token', 401, 'invalid_token', 'a bearer access token is required'],
      ['scope', 403, 'insufficient_scope', 'the admin scope is required'],
    ])('%s: %i with a Bearer challenge (RFC 6750 §3)', async (kind, status, error, description) => {
      const res = await get(`/admin/api/fail/${kind}`);
      expect(res.status).toBe(status);
      expect(res.headers.get('www-authenticate')).toBe(`Bearer realm="curfew-admin", error="${error}", error_description="${description}"`);
      expect(res.json()).toEqual({ error, error_description: description });
    });

    it('is the shape of any JSON-accepting client outside the APIs too', async () => {
      const res = await get('/page/fail/validation', 'application/json');
      expect(res.status).toBe(400);
      expect(res.json()).toMatchObject({ error: 'invalid_request', fields: [{ field: 'username' }, { field: 'roles.0' }] });
    });
  });

  describe('HTML page', () => {
    it('shows the public message and the code with the table\'s status', async () => {
      const res = await get('/page/fail/conflict');
      expect(res.status).toBe(409);
      expect(res.headers.get('content-type')).toContain('text/html');
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(res.text).toContain('This request could not be completed');
      expect(res.text).toContain('client_id is not available');
      expect(res.text).toContain('<code>conflict</code>');
    });

    it('says "briefly unavailable" for a store outage, with Retry-After', async () => {
      const res = await get('/page/fail/unavailable');
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(res.text).toContain('Briefly unavailable');
      expect(res.text).not.toContain('10.1.2.3');
    });

    it('answers a page that refuses in its own words with the status of its code', async () => {
      expect((await get('/form/rate_limited')).status).toBe(429);
      expect((await get('/form/access_denied')).status).toBe(403);
      expect((await get('/form/invalid_credentials')).status).toBe(400);
    });
  });

  describe('what is not a client\'s mistake, and what is not ours', () => {
    it.each(['/session', '/admin/api', '/page'])('%s: a bug is a generic 500, its message in the log only', async (prefix) => {
      const res = await get(`${prefix}/fail/bug`);
      expect(res.status).toBe(500);
      expect(res.text).toContain('server_error');
      expect(res.text).not.toContain('passwordHash');
      expect(logLines.some((line) => line.includes('passwordHash') && line.includes('"level":50'))).toBe(true);
    });

    it('keeps a library\'s exposed status (koa body parser 413)', async () => {
      const res = await get('/admin/api/fail/koa');
      expect(res.status).toBe(413);
      expect(res.json()).toEqual({ error: 'bad_request', error_description: 'request entity too large' });
    });

    it('logs the detail and never renders it', async () => {
      const logged = () => logLines.filter((line) => line.includes('secret-detail: asked by org other')).length;
      const before = logged();
      for (const prefix of ['/session', '/admin/api', '/page']) {
        const res = await get(`${prefix}/fail/missing`);
        expect(res.status).toBe(404);
        expect(res.text).not.toContain('secret-detail');
      }
      expect(logged() - before).toBe(3);
    });
  });

  it('renders the same answer as bodies without a server', () => {
    const answer = answerFor(ERRORS.validation!());
    expect(oidcErrorBody(answer)).toEqual({ error: 'invalid_request', error_description: 'the user is invalid' });
    expect(adminErrorBody(answer)).toEqual({ ...oidcErrorBody(answer), fields: [{ field: 'username', message: 'required' }, { field: 'roles.0', message: 'unknown role' }] });
    expect(answerFor('a string thrown by mistake')).toMatchObject({ status: 500, code: 'server_error' });
  });
});

describe('the model end to end, on a Curfew instance', () => {
  let h: Harness;
  let adminToken: string;
  beforeAll(async () => {
    h = await startCurfew('memory');
    adminToken = (await oidc.clientCredentialsGrant(await h.rp('acme-admin'), { scope: 'admin' })).access_token;
  });
  afterAll(async () => {
    await h?.close();
  });

  it('renders the provider\'s own errors as the same page, with the page headers', async () => {
    const res = await fetch(`${h.url}/auth?client_id=no-such-client&response_type=code&scope=openid`, { headers: { accept: 'text/html' } });
    const html = await res.text();
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toContain('text/html');
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(html).toContain('This request could not be completed');
    expect(html).toContain('<code>invalid_client</code>');
  });

  it('refuses the admin API without a token with 401 invalid_token and a Bearer challenge', async () => {
    const res = await fetch(`${h.url}/admin/api/v1/orgs/acme/policy`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Bearer realm="curfew-admin", error="invalid_token", error_description="a bearer access token is required"');
    expect(await res.json()).toEqual({ error: 'invalid_token', error_description: 'a bearer access token is required' });
  });

  it('answers the store\'s bad-cursor error 400 invalid_cursor through the admin API', async () => {
    const res = await fetch(`${h.url}/admin/api/v1/orgs/acme/audit?cursor=bm90LWEtY3Vyc29y`, { headers: { authorization: `Bearer ${adminToken}` } });
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({ error: 'invalid_cursor', error_description: 'the audit cursor is not valid; use nextCursor from a previous page' });
  });

  it('answers every failed client authentication alike, and logs which failure it was', async () => {
    const wrong = `Basic ${Buffer.from('acme-app:not-the-secret').toString('base64')}`;
    const res = await fetch(`${h.url}/session/status?sid=x`, { headers: { authorization: wrong } });
    expect(res.status).toBe(401);
    const body = await res.text();
    expect(JSON.parse(body)).toEqual({ error: 'invalid_client', error_description: 'client authentication failed' });
    expect(body).not.toContain('wrong secret');
    expect(h.logs.some((line) => line.includes('client acme-app: wrong secret'))).toBe(true);
    expect(h.logs.some((line) => line.includes('not-the-secret'))).toBe(false);
  });

  it('answers a username taken as the API always did: 400 naming the field', async () => {
    const res = await fetch(`${h.url}/admin/api/v1/orgs/acme/users`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'alice', password: 'a-long-enough-password-1', roles: [] }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'invalid_request', fields: [{ field: 'username' }] });
  });

  /** A raw request over TCP: what Node's parser refuses never reaches koa. */
  async function raw(request: string): Promise<{ status: number; type: string | undefined; body: unknown }> {
    const { hostname, port } = new URL(h.url);
    const text = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.end(request));
      let data = '';
      socket.on('data', (chunk) => (data += chunk));
      socket.on('end', () => resolve(data));
      socket.on('error', reject);
    });
    const [head = '', body = ''] = text.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), type: /content-type: ([^\r]+)/i.exec(head)?.[1], body: JSON.parse(body) };
  }

  it('answers headers too large for Node\'s parser with 431 headers_too_large, in the error shape', async () => {
    const res = await raw(`GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    expect(res).toEqual({ status: 431, type: 'application/json', body: { error: 'headers_too_large', error_description: 'the request headers (or the URL) are too large' } });
  });

  it('answers a request that is not HTTP with 400 invalid_request, in the error shape', async () => {
    const res = await raw('NOT HTTP AT ALL\r\n\r\n');
    expect(res).toEqual({ status: 400, type: 'application/json', body: { error: 'invalid_request', error_description: 'the request is not valid HTTP' } });
  });
});
