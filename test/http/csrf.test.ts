import { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import Koa from 'koa';
import { describe, expect, it } from 'vitest';
import { csrfToken, csrfValid } from '../../src/http/csrf.ts';

const app = new Koa();
app.keys = ['k'.repeat(32)];

/** A context whose request carries the cookies a previous response set. */
function context(cookies: string[] = []) {
  const req = new IncomingMessage(new Socket());
  req.headers.cookie = cookies.map((c) => c.split(';')[0]).join('; ');
  const res = new ServerResponse(req);
  return app.createContext(req, res);
}
const setCookies = (ctx: Koa.Context) => [ctx.response.get('set-cookie')].flat().filter((c): c is string => typeof c === 'string');

describe('CSRF double-submit token', () => {
  it('sets a random 256-bit token in a signed, httpOnly, SameSite cookie', () => {
    const ctx = context();
    const token = csrfToken(ctx);
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const cookies = setCookies(ctx);
    expect(cookies.some((c) => c.startsWith(`curfew.csrf=${token};`) && /httponly/i.test(c) && /samesite=lax/i.test(c))).toBe(true);
    expect(cookies.some((c) => c.startsWith('curfew.csrf.sig='))).toBe(true);
    expect(csrfToken(context())).not.toBe(token);
  });

  it('keeps the token of a browser that has one, and accepts it echoed back', () => {
    const first = context();
    const token = csrfToken(first);
    const next = context(setCookies(first));
    expect(csrfToken(next)).toBe(token);
    expect(csrfValid(next, token)).toBe(true);
  });

  it('refuses a missing, wrong, or non-string echo, and a cookie without its signature', () => {
    const first = context();
    const token = csrfToken(first);
    const next = context(setCookies(first));
    expect(csrfValid(next, undefined)).toBe(false);
    expect(csrfValid(next, `${token}x`)).toBe(false);
    expect(csrfValid(next, [token])).toBe(false);
    expect(csrfValid(context(), token)).toBe(false);
    const unsigned = context(setCookies(first).filter((c) => !c.startsWith('curfew.csrf.sig=')));
    expect(csrfValid(unsigned, token)).toBe(false);
  });
});
