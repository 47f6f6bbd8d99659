import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context, Next } from 'koa';
import type Provider from 'oidc-provider';
import { CurfewError } from '../../errors.ts';
import { authenticateClient } from '../../http/client-auth.ts';
import type { RateLimiter } from '../../rate-limit/rate-limiter.ts';
import type { SessionService, SessionStatus } from '../service.ts';
import type { Activity } from '../types.ts';
import { bodyFields } from '../../http/body.ts';



/** RFC 6750 §2.1: the token only from the Authorization header (never the query string, which is logged). */
function bearerToken(ctx: Context): string | undefined {
  const match = /^Bearer\s+([A-Za-z0-9\-._~+/]+=*)\s*$/i.exec(ctx.get('authorization'));
  return match?.[1];
}

/** An origin of a registered redirect URI: what a browser sends in `Origin` from that app's pages. */
function originOf(uri: string): string | undefined {
  try {
    const { origin } = new URL(uri);
    return origin === 'null' ? undefined : origin;
  } catch {
    return undefined;
  }
}

/** What CORS reads of a client. */
interface RegisteredOrigins {
  redirect_uris: string[];
}

export interface StatusRouteDeps {
  provider: Provider;
  sessions: SessionService;
  /** The clients' redirect URIs give the origins CORS answers (src/orgs/store.ts's DirectoryStore fits). */
  directory: {
    getClient(clientId: string): Promise<RegisteredOrigins | undefined>;
    listOrgs(): Promise<Array<{ id: string }>>;
    listClients(org: string): Promise<RegisteredOrigins[]>;
  };
  /** Activity reports per RP session (SPEC §7); an app reporting every click must not write every click. */
  activityLimiter: RateLimiter;
  /** Keyed hash for the limiter's keys, so sids never appear in store keys. */
  hash: (value: string) => string;
  /** Largest form or JSON body read (`bodyLimits.sessionApiKb`). */
  bodyLimitKb: number;
}

const ALLOWED_HEADERS = 'Authorization, Content-Type';
/** How stale the preflight's set of registered origins may be: a new client's app waits this long at most. */
const ORIGINS_TTL_MS = 30_000;

/**
 * SPEC §7 (external contract): an RP asks how long its user's session has left, or reports
 * that its user did something. Either client-authenticated with the `sid`, or with the RP
 * session's access token as a Bearer token (a single-page app, or an API handling its user's
 * request). A sid answers only to its client; a token names its own RP session.
 *
 * Browsers may call with a token from the origins of the client's registered redirect URIs
 * (CORS), never with credentials: the token is the only authority, cookies play no part.
 */
export function sessionStatusRoutes({ provider, sessions, directory, activityLimiter, hash, bodyLimitKb }: StatusRouteDeps): Router {
  const forms = bodyParser({ enableTypes: ['form', 'json'], formLimit: `${bodyLimitKb}kb`, jsonLimit: `${bodyLimitKb}kb` });
  const router = new Router({ prefix: '/session' });

  async function clientOrigins(clientId: string): Promise<string[]> {
    const client = await directory.getClient(clientId);
    return (client?.redirect_uris ?? []).map(originOf).filter((o): o is string => o !== undefined);
  }

  /**
   * A preflight carries no token, so it cannot name the client yet: it is answered for origins
   * some registered client redirects to; the real request then answers CORS only to the token's own client's.
   * Anyone may send preflights: the set of origins is read from the directory at most every
   * ORIGINS_TTL_MS (one read shared by concurrent requests), not once per request and client.
   */
  let origins: { at: number; set: Promise<Set<string>> } | undefined;
  async function anyClientOrigin(origin: string): Promise<boolean> {
    if (!origins || Date.now() - origins.at >= ORIGINS_TTL_MS) {
      const set = readAllOrigins();
      origins = { at: Date.now(), set };
      set.catch(() => (origins = undefined));
    }
    return (await origins.set).has(origin);
  }
  async function readAllOrigins(): Promise<Set<string>> {
    const all = new Set<string>();
    for (const org of await directory.listOrgs()) {
      for (const client of await directory.listClients(org.id)) {
        for (const uri of client.redirect_uris) {
          const o = originOf(uri);
          if (o) all.add(o);
        }
      }
    }
    return all;
  }

  async function preflight(ctx: Context): Promise<void> {
    const origin = ctx.get('origin');
    ctx.status = 204;
    ctx.set('Vary', 'Origin');
    if (!origin || !(await anyClientOrigin(origin))) return;
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Allow-Methods', 'GET, POST');
    ctx.set('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    ctx.set('Access-Control-Max-Age', '600');
  }

  function allowOrigin(ctx: Context, origin: string): void {
    ctx.set('Access-Control-Allow-Origin', origin);
    ctx.set('Access-Control-Expose-Headers', 'Curfew-Now, Retry-After');
  }

  /** Consumes one of the RP session's activity reports; the excess is refused before anything is written. */
  async function spendActivity(key: string): Promise<void> {
    const reservation = await activityLimiter.reserve(hash(`activity:${key}`));
    if (!reservation.granted) {
      throw new CurfewError('rate_limited', 'too many activity reports for this session; retry later', { retryAfterSeconds: reservation.retryAfterSeconds });
    }
  }

  const answer = (activity: Activity) => async (ctx: Context) => {
    ctx.set('Cache-Control', 'no-store');
    ctx.set('Vary', 'Origin');
    const token = bearerToken(ctx);
    if (token !== undefined) {
      await answerWithToken(ctx, token, activity);
      return;
    }
    const body = bodyFields(ctx);
    // Credentials only from the Authorization header or the body, never the query string,
    // which ends up in access logs (RFC 6749 §2.3.1).
    const client = await authenticateClient(ctx, provider, { client_id: body.client_id ?? ctx.query.client_id, client_secret: body.client_secret });
    const sid = body.sid ?? ctx.query.sid;
    if (typeof sid !== 'string' || !sid || sid.length > 256) {
      throw new CurfewError('invalid_request', 'sid is required');
    }
    if (activity === 'active') await spendActivity(`${client.clientId}:${sid}`);
    respond(ctx, await sessions.statusBySidAt(sid, client.clientId, activity, 'rp_report'));
  };

  /** The body of SPEC §7, and Curfew's clock in a header so a browser can count down by it. */
  function respond(ctx: Context, { status, now }: { status: SessionStatus; now: number }): void {
    ctx.set('Curfew-Now', new Date(now).toISOString());
    ctx.body = status;
  }

  async function answerWithToken(ctx: Context, token: string, activity: Activity): Promise<void> {
    // find() refuses expired, revoked and unknown tokens, and tokens whose session lost the grant.
    const found = await provider.AccessToken.find(token);
    const origin = ctx.get('origin');
    // A sender-constrained (DPoP, mTLS) token proves nothing without its proof, which this endpoint does not take.
    if (!found || found.isSenderConstrained() || !found.clientId || typeof found.sid !== 'string' || !found.sessionUid) {
      // A token that died with its session names no client any more; the apps' pages must
      // still read this answer to learn the session ended. It tells nothing else.
      if (origin && (await anyClientOrigin(origin))) allowOrigin(ctx, origin);
      ctx.body = { active: false };
      return;
    }
    if (origin && (await clientOrigins(found.clientId)).includes(origin)) allowOrigin(ctx, origin);
    if (activity === 'active') await spendActivity(`${found.clientId}:${found.sid}`);
    respond(ctx, await sessions.statusBySidAt(found.sid, found.clientId, activity, 'bearer'));
  }

  const noCredentialsInQuery = async (ctx: Context, next: Next) => {
    if (typeof ctx.query.access_token === 'string') throw new CurfewError('invalid_request', 'send the access token in the Authorization header');
    await next();
  };

  router.options('/status', preflight);
  router.options('/activity', preflight);
  router.get('/status', noCredentialsInQuery, forms, answer('passive'));
  router.post('/status', noCredentialsInQuery, forms, answer('passive'));
  router.post('/activity', noCredentialsInQuery, forms, answer('active'));
  return router;
}
