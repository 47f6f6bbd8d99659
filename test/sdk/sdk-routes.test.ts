import { readFileSync } from 'node:fs';
import Koa from 'koa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sdkRoutes } from '../../src/sdk/sdk-routes.ts';
import { serve } from '../support/serve.ts';

describe('GET /sdk/session.js (SPEC §7)', () => {
  let server: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    const app = new Koa();
    app.use(sdkRoutes().routes());
    server = await serve(app);
  });
  afterAll(async () => {
    await server.close();
  });

  it('serves src/sdk/session.js as JavaScript, cacheable, loadable from an RP\'s origin', async () => {
    const res = await fetch(`${server.url}/sdk/session.js`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(res.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(res.headers.get('cross-origin-resource-policy')).toBe('cross-origin');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(await res.text()).toBe(readFileSync(new URL('../../src/sdk/session.js', import.meta.url), 'utf8'));
  });

  it('answers 304 with no body to a revalidation with its ETag, and the script to any other', async () => {
    const etag = (await fetch(`${server.url}/sdk/session.js`)).headers.get('etag');
    expect(etag).toMatch(/^"[A-Za-z0-9_-]{27}"$/);
    const again = await fetch(`${server.url}/sdk/session.js`, { headers: { 'if-none-match': etag! } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    const stale = await fetch(`${server.url}/sdk/session.js`, { headers: { 'if-none-match': '"old"' } });
    expect(stale.status).toBe(200);
  });

  it('serves nothing else', async () => {
    expect((await fetch(`${server.url}/sdk/other.js`)).status).toBe(404);
    expect((await fetch(`${server.url}/sdk/session.js`, { method: 'POST' })).status).toBe(404);
  });
});
