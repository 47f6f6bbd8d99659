import { describe, expect, it } from 'vitest';
import { renderLogin } from '../../../src/oidc/interactions/login-page.ts';
import { UserAgent } from '../../support/user-agent.ts';
import { requestContext } from './request.ts';

const render = (...args: Parameters<typeof renderLogin> extends [unknown, ...infer Rest] ? Rest : never) => {
  const ctx = requestContext('/interaction/uid-1');
  renderLogin(ctx, ...args);
  return { ctx, html: String(ctx.body) };
};

describe('the password page (src/oidc/interactions/login-page.ts)', () => {
  it('posts the login to this interaction, offers to cancel it, and carries the browser\'s CSRF token', () => {
    const { ctx, html } = render('uid-1', { client: 'Acme App', username: 'alice' });
    expect(ctx.status).toBe(200);
    expect(ctx.type).toBe('text/html');
    const forms = UserAgent.forms(html, 'http://127.0.0.1/interaction/uid-1');
    const login = forms.find((f) => f.action.endsWith('/interaction/uid-1/login'));
    const abort = forms.find((f) => f.action.endsWith('/interaction/uid-1/abort'));
    expect(login?.fields).toMatchObject({ username: 'alice', csrf: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(abort?.fields.csrf).toBe(login?.fields.csrf);
    expect(String(ctx.response.get('set-cookie'))).toContain('curfew.csrf=');
    expect(html).toContain('Acme App');
  });

  it('answers a refusal with its status and says what went wrong', () => {
    expect(render('uid-1', { client: 'Acme App', error: 'Invalid username or password.' }, 'invalid_credentials').ctx.status).toBe(400);
    const limited = render('uid-1', { client: 'Acme App', error: 'Too many failed sign-ins.' }, 'rate_limited');
    expect(limited.ctx.status).toBe(429);
    expect(limited.html).toContain('Too many failed sign-ins.');
  });

  it('escapes what the user typed and the client\'s name', () => {
    const { html } = render('uid-1', { client: '<b>Evil</b>', username: '"><script>alert(1)</script>' });
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).not.toContain('<b>Evil</b>');
  });
});
