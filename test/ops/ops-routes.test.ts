import { readFileSync } from 'node:fs';
import Koa from 'koa';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics } from '../../src/ops/metrics.ts';
import { opsRoutes } from '../../src/ops/ops-routes.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import type { Store } from '../../src/store/types.ts';
import { serve } from '../support/serve.ts';

describe('liveness, readiness, metrics and static assets', () => {
  let server: Awaited<ReturnType<typeof serve>> | undefined;
  let store: Store | undefined;
  afterEach(async () => {
    await server?.close();
    await store?.close();
    server = undefined;
    store = undefined;
  });

  async function start(over: { ping?: () => Promise<void>; intact?: () => Promise<boolean> } = {}) {
    await server?.close();
    await store?.close();
    store = createMemoryStore();
    const metrics = createMetrics();
    metrics.registry.resetMetrics();
    const app = new Koa();
    const target = over.ping ? { ...store, ping: over.ping } : store;
    app.use(opsRoutes(target, metrics, over.intact).routes());
    server = await serve(app);
    const get = (path: string) => fetch(`${server!.url}${path}`);
    return { get, metrics };
  }

  it('is alive whatever the store, and never cached', async () => {
    const { get } = await start({ ping: () => Promise.reject(new Error('down')) });
    const res = await get('/healthz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('is ready when the store answers and holds its state, naming the store kind', async () => {
    const { get } = await start();
    const res = await get('/readyz');
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready', store: 'memory' });
    expect(res.headers.get('cache-control')).toBe('no-store');
  });

  it('is not ready (503) when the store does not answer, or answers but was wiped', async () => {
    const down = await start({ ping: () => Promise.reject(new Error('ECONNREFUSED')) });
    const res = await down.get('/readyz');
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'unavailable', store: 'memory' });
    const wiped = await start({ intact: async () => false });
    expect((await wiped.get('/readyz')).status).toBe(503);
    const failing = await start({ intact: () => Promise.reject(new Error('marker unreadable')) });
    expect((await failing.get('/readyz')).status).toBe(503);
  });

  it('exposes the metrics registry in its own content type', async () => {
    const { get, metrics } = await start();
    const res = await get('/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.registry.contentType);
    expect(await res.text()).toContain('curfew_http_requests_total');
  });

  it('serves the listed assets with their type, and nothing else — not an inherited name', async () => {
    const { get } = await start();
    const css = await get('/static/curfew.css');
    expect(css.status).toBe(200);
    expect(css.headers.get('content-type')).toBe('text/css; charset=utf-8');
    expect(css.headers.get('cache-control')).toBe('public, max-age=3600');
    expect(await css.text()).toBe(readFileSync(new URL('../../views/static/curfew.css', import.meta.url), 'utf8'));
    expect((await get('/static/console.js')).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    for (const path of ['/static/constructor', '/static/__proto__', '/static/toString', '/static/..%2Fpackage.json', '/static/nope.css']) {
      expect((await get(path)).status, path).toBe(404);
    }
  });
});
