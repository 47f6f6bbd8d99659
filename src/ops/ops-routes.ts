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

/**
 * A load balancer or orchestrator waits for readiness with a short timeout of its own; a store
 * that stalls (a frozen network, Redis busy loading) must read as not ready, promptly, rather
 * than as a probe that hangs until the caller gives up.
 */
const READINESS_TIMEOUT_MS = 1_000;

async function answersWithin(store: Store, intact: () => Promise<boolean>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  const answered = Promise.all([store.ping(), intact()]).then(([, holdsState]) => holdsState, () => false);
  try {
    return await Promise.race([answered, late]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Liveness, readiness, metrics and the few static assets of Curfew's pages. Ready means the
 * store answers and still holds its state (`intact`: see src/store/wipe-detection.ts); a wiped
 * store reads as not ready until its seed and keys are back.
 */
export function opsRoutes(store: Store, metrics: Metrics, intact: () => Promise<boolean> = async () => true): Router {
  const router = new Router();
  router.get('/healthz', (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.body = { status: 'ok' };
  });
  router.get('/readyz', async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    if (await answersWithin(store, intact, READINESS_TIMEOUT_MS)) {
      ctx.body = { status: 'ready', store: store.kind };
    } else {
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
