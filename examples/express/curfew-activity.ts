import type { NextFunction, Request, Response } from 'express';

export interface CurfewActivityOptions {
  /** Curfew's issuer URL. */
  issuer: string;
  clientId: string;
  clientSecret: string;
  /** At most one report per sid in this many seconds (default 30). */
  intervalSeconds?: number;
  /** Which requests are the user's own doing (default: all that pass through this middleware). */
  isActivity?: (req: Request) => boolean;
  /** Milliseconds now (default Date.now). */
  now?: () => number;
}

interface OidcRequest {
  oidc?: { isAuthenticated(): boolean; idTokenClaims?: { sid?: unknown } };
}

/**
 * Express middleware for an app signed in with express-openid-connect: a request of a
 * signed-in user is their activity, reported to Curfew (POST /session/activity with the
 * client's credentials and the sid), at most once per interval per sid. Mount it after
 * `auth()` and after anything that is not the user's doing (health checks, polling, jobs).
 * Reports never delay the response; if Curfew cannot be reached, the session still ends on time.
 */
export function curfewActivity(options: CurfewActivityOptions) {
  const interval = (options.intervalSeconds ?? 30) * 1000;
  const now = options.now ?? Date.now;
  const endpoint = `${options.issuer.replace(/\/+$/, '')}/session/activity`;
  const form = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  const authorization = `Basic ${Buffer.from(`${form(options.clientId)}:${form(options.clientSecret)}`).toString('base64')}`;
  const lastReport = new Map<string, number>();

  return function reportActivity(req: Request, _res: Response, next: NextFunction): void {
    const oidc = (req as Request & OidcRequest).oidc;
    const sid = oidc?.isAuthenticated() ? oidc.idTokenClaims?.sid : undefined;
    if (typeof sid === 'string' && (options.isActivity?.(req) ?? true)) {
      const at = now();
      if (at - (lastReport.get(sid) ?? -Infinity) >= interval) {
        lastReport.set(sid, at);
        if (lastReport.size > 10_000) {
          for (const [key, when] of lastReport) if (at - when >= interval) lastReport.delete(key);
        }
        void fetch(endpoint, {
          method: 'POST',
          headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ sid }),
        }).then((res) => res.body?.cancel(), () => lastReport.delete(sid));
      }
    }
    next();
  };
}

/**
 * Same-origin endpoints for Curfew's /sdk/session.js in a server-rendered app (its
 * `data-status-url` and `data-activity-url`): the browser never holds a token; the app relays to
 * Curfew with its client credentials and the user's sid. Activity needs the script's
 * `X-Requested-With` header, which a cross-site form cannot send (CSRF). Without a signed-in
 * user they answer 401, which the script treats as the end of the session.
 */
export function curfewSessionRelay(options: Omit<CurfewActivityOptions, 'isActivity' | 'now' | 'intervalSeconds'>) {
  const base = options.issuer.replace(/\/+$/, '');
  const form = (v: string) => encodeURIComponent(v).replace(/%20/g, '+');
  const authorization = `Basic ${Buffer.from(`${form(options.clientId)}:${form(options.clientSecret)}`).toString('base64')}`;

  const relay = (kind: 'status' | 'activity') => async (req: Request, res: Response): Promise<void> => {
    const oidc = (req as Request & OidcRequest).oidc;
    const sid = oidc?.isAuthenticated() ? oidc.idTokenClaims?.sid : undefined;
    if (typeof sid !== 'string') {
      res.status(401).json({ active: false });
      return;
    }
    if (kind === 'activity' && req.get('x-requested-with') !== 'curfew-session') {
      res.status(403).json({ error: 'missing X-Requested-With' });
      return;
    }
    const answer = await fetch(`${base}/session/${kind}`, {
      method: 'POST',
      headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ sid }),
    });
    const now = answer.headers.get('curfew-now');
    if (now) res.set('Curfew-Now', now);
    res.set('Cache-Control', 'no-store');
    res.status(answer.status).json(await answer.json());
  };
  return { status: relay('status'), activity: relay('activity') };
}
