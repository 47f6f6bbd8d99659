import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import { csrfToken, csrfValid } from '../../http/csrf.ts';
import { CurfewError } from '../../errors.ts';
import { renderPage } from '../../http/views.ts';
import { expiresAt, rpDeadlines, ssoDeadlines, warningAt } from '../../sessions/deadlines.ts';
import type { SessionService } from '../../sessions/service.ts';
import type { SessionCheck } from '../../sessions/types.ts';
import type { DirectoryStore } from '../../store/types.ts';
import { bodyFields } from '../../http/body.ts';

const iso = (ms: number) => new Date(ms).toISOString();

function view(check: SessionCheck) {
  const s = check.session!;
  const sso = ssoDeadlines(s);
  return {
    signedInAt: iso(s.signedInAt),
    idleAt: iso(sso.idleAt),
    absoluteAt: iso(sso.absoluteAt),
    expiresAt: iso(expiresAt(sso)),
    warningAt: iso(warningAt(sso, s.warningSeconds)),
    now: iso(check.now),
    rps: Object.values(s.rps).filter((rp) => rp.endedAt === undefined).map((rp) => {
      const d = rpDeadlines(s, rp);
      const ends = expiresAt(d);
      return { client: rp.client, startedAt: iso(rp.startedAt), expiresAt: iso(ends), ended: ends <= check.now };
    }),
  };
}

/**
 * /account: the signed-in user's session and RP sessions with their deadlines, a countdown
 * from warningAt, and "Stay signed in". Using the page is activity (SPEC §5).
 */
export function accountRoutes(provider: Provider, sessions: SessionService, directory: DirectoryStore, bodyLimitKb: number): Router {
  const forms = bodyParser({ enableTypes: ['form'], formLimit: `${bodyLimitKb}kb` });
  const router = new Router({ prefix: '/account' });

  async function signedIn(ctx: Context) {
    const session = await provider.Session.get(ctx);
    return session.accountId ? session : undefined;
  }

  async function show(ctx: Context, check: SessionCheck): Promise<void> {
    if (check.sso !== 'alive' || !check.session) {
      renderPage(ctx, 'account-ended', {});
      return;
    }
    const user = await directory.getUser(check.session.user);
    renderPage(ctx, 'account', { username: user?.username ?? '', csrf: csrfToken(ctx), ...view(check) });
  }

  router.get('/', async (ctx) => {
    const session = await signedIn(ctx);
    if (!session) {
      renderPage(ctx, 'account-ended', { never: true });
      return;
    }
    await show(ctx, await sessions.check(session.uid, undefined, 'active'));
  });

  router.post('/stay', forms, async (ctx) => {
    const body = bodyFields(ctx);
    if (!csrfValid(ctx, body.csrf)) throw new CurfewError('csrf_failed', 'The form could not be verified. Reload the page and try again.');
    const session = await signedIn(ctx);
    if (!session) {
      renderPage(ctx, 'account-ended', { never: true });
      return;
    }
    const check = await sessions.stayActive(session.uid);
    if (check.sso !== 'alive') await sessions.check(session.uid, undefined, 'passive');
    ctx.redirect('/account');
  });

  return router;
}
