import { bodyParser } from '@koa/bodyparser';
import Router from '@koa/router';
import { abortInteraction } from './abort.ts';
import { submitConsent } from './consent.ts';
import type { InteractionDeps } from './context.ts';
import { submitLogin } from './login.ts';
import { submitContinue, submitEnrollment, submitTotp } from './second-factor.ts';
import { showInteraction } from './show.ts';

/** Forms are small; a larger body is a client mistake answered with 413, not parsed. */

export function interactionRoutes(deps: InteractionDeps & { bodyLimitKb: number }): Router {
  const forms = bodyParser({ enableTypes: ['form'], formLimit: `${deps.bodyLimitKb}kb` });
  const router = new Router({ prefix: '/interaction/:uid' });
  router.get('/', showInteraction(deps));
  router.post('/login', forms, submitLogin(deps));
  router.post('/confirm', forms, submitConsent(deps));
  router.post('/totp', forms, submitTotp(deps));
  router.post('/enroll', forms, submitEnrollment(deps));
  router.post('/continue', forms, submitContinue(deps));
  router.post('/abort', forms, abortInteraction(deps));
  return router;
}
