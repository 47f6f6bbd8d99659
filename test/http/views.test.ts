import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderPage, sendPage, setPageHeaders } from '../../src/http/views.ts';
import { serve } from '../support/serve.ts';

describe('Curfew\'s pages', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    const app = new Koa();
    app.use((ctx) => {
      const message = String(ctx.query.message ?? '');
      if (ctx.path === '/ok') renderPage(ctx, 'error', { title: 'A page', message, code: undefined });
      else if (ctx.path === '/refused') renderPage(ctx, 'error', { title: 'Refused', message, code: 'csrf_failed' }, 'csrf_failed');
      else if (ctx.path === '/limited') renderPage(ctx, 'error', { title: 'Slow down', message }, 'rate_limited');
      else if (ctx.path === '/status') sendPage(ctx, 'error', { title: 'Gone', message }, 410);
      else {
        setPageHeaders(ctx);
        ctx.body = 'headers only';
      }
    });
    server = await serve(app);
  });
  afterAll(async () => {
    await server.close();
  });

  it('carry a policy that runs no inline or foreign script, cannot be framed, and are never cached', async () => {
    for (const path of ['/ok', '/refused', '/headers']) {
      const res = await fetch(`${server.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).toContain("frame-ancestors 'none'");
      expect(res.headers.get('x-frame-options')).toBe('DENY');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('referrer-policy')).toBe('no-referrer');
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('render 200 as HTML, or the refusal\'s status from the error table', async () => {
    const ok = await fetch(`${server.url}/ok?message=hello`);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(await ok.text()).toContain('hello');
    expect((await fetch(`${server.url}/refused`)).status).toBe(403);
    expect((await fetch(`${server.url}/limited`)).status).toBe(429);
    expect((await fetch(`${server.url}/status`)).status).toBe(410);
  });

  it('escape every interpolated string', async () => {
    const html = await (await fetch(`${server.url}/ok?message=${encodeURIComponent('<script>alert(1)</script>"&')}`)).text();
    expect(html).not.toContain('<script>alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
  });
});
