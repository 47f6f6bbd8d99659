import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { CurfewError } from '../../http/errors.ts';
import { authenticateClient } from '../../oidc/client-auth.ts';
import type { SessionService } from '../service.ts';
import type { Activity } from '../types.ts';

const forms = bodyParser({ enableTypes: ['form', 'json'], formLimit: '8kb', jsonLimit: '8kb' });

function bodyOf(ctx: Context): Record<string, unknown> {
  const body = (ctx.request as unknown as { body?: unknown }).body;
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

/**
 * SPEC §7 (external contract): an RP asks how long its user's session has left, or reports
 * that its user did something. Both are client-authenticated; a sid answers only to its client.
 */
export function sessionStatusRoutes(provider: Provider, sessions: SessionService): Router {
  const router = new Router({ prefix: '/session' });

  const answer = (activity: Activity) => async (ctx: Context) => {
    const body = bodyOf(ctx);
    // Credentials only from the Authorization header or the body, never the query string,
    // which ends up in access logs (RFC 6749 §2.3.1).
    const client = await authenticateClient(ctx, provider, { client_id: body.client_id ?? ctx.query.client_id, client_secret: body.client_secret });
    const sid = body.sid ?? ctx.query.sid;
    if (typeof sid !== 'string' || !sid || sid.length > 256) {
      throw new CurfewError('invalid_request', 400, 'sid is required');
    }
    ctx.set('Cache-Control', 'no-store');
    ctx.body = await sessions.statusBySid(sid, client.clientId, activity);
  };

  router.get('/status', forms, answer('passive'));
  router.post('/status', forms, answer('passive'));
  router.post('/activity', forms, answer('active'));
  return router;
}
