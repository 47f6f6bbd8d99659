import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import Router from '@koa/router';

const SCRIPT = readFileSync(new URL('./session.js', import.meta.url));
const ETAG = `"${createHash('sha256').update(SCRIPT).digest('base64url').slice(0, 27)}"`;

/**
 * SPEC §7: `GET /sdk/session.js`, the script RPs embed (src/sdk/session.js). Static, so it is
 * cached; apps load it from Curfew's origin, so it is marked loadable cross-origin.
 */
export function sdkRoutes(): Router {
  const router = new Router();
  router.get('/sdk/session.js', (ctx) => {
    ctx.set('Cache-Control', 'public, max-age=3600');
    ctx.set('ETag', ETAG);
    ctx.set('X-Content-Type-Options', 'nosniff');
    ctx.set('Cross-Origin-Resource-Policy', 'cross-origin');
    if (ctx.get('if-none-match') === ETAG) {
      ctx.status = 304;
      return;
    }
    ctx.type = 'text/javascript; charset=utf-8';
    ctx.body = SCRIPT;
  });
  return router;
}
