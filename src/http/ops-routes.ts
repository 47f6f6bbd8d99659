import { createReadStream } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Router from '@koa/router';
import type { Store } from '../store/types.ts';
import type { Metrics } from './metrics.ts';

const STATIC = fileURLToPath(new URL('../../views/static/', import.meta.url));
// A Map, not an object literal: a path segment such as `constructor` or `__proto__` must not
// find an inherited property and be served as a file that does not exist.
const ASSETS = new Map([
  ['curfew.css', 'text/css; charset=utf-8'],
  ['account.js', 'text/javascript; charset=utf-8'],
  ['console.js', 'text/javascript; charset=utf-8'],
]);

/** Liveness, readiness, metrics and the few static assets of Curfew's pages. */
export function opsRoutes(store: Store, metrics: Metrics): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    try {
      await store.ping();
      ctx.body = { status: 'ready', store: store.kind };
    } catch {
      ctx.status = 503;
      ctx.body = { status: 'unavailable', store: store.kind };
    }
  });
  router.get('/metrics', async (ctx) => {
    ctx.type = metrics.registry.contentType;
    ctx.body = await metrics.registry.metrics();
  });
  router.get('/static/:file', (ctx) => {
    const type = ASSETS.get(ctx.params.file ?? '');
    if (!type) return;
    ctx.type = type;
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.body = createReadStream(STATIC + ctx.params.file);
  });
  return router;
}
