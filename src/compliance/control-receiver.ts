import { bodyParser } from '@koa/bodyparser';
import type Router from '@koa/router';
import { createLocalJWKSet, type JSONWebKeySet } from 'jose';
import { verifyLogoutToken, type VerifiedLogoutToken } from '../logout/logout-token.ts';
import { CurfewError } from '../errors.ts';
import { sendError } from '../http/errors.ts';
import type { IdentifierHasher } from '../crypto/identifier-hash.ts';
import type { ModelStore } from '../store/types.ts';
import { bodyFields } from '../http/body.ts';

const MODEL = 'CurfewControlReceipt';

export interface ControlReceipt {
  sid: string;
  client: string;
  /** Shared-clock ms at which the token was accepted. */
  receivedAt: number;
}

/** What the test receiver accepted, in the store: any instance may receive, any may be waiting. */
export function controlReceipts(models: ModelStore, hash: IdentifierHasher) {
  return {
    async record(receipt: ControlReceipt): Promise<void> {
      await models.upsert(MODEL, hash(`control-receipt:${receipt.sid}`), { ...receipt }, 24 * 3600, {});
    },
    async find(sid: string): Promise<ControlReceipt | undefined> {
      const found = await models.find(MODEL, hash(`control-receipt:${sid}`));
      if (!found || typeof found.sid !== 'string' || typeof found.client !== 'string' || typeof found.receivedAt !== 'number') return undefined;
      return { sid: found.sid, client: found.client, receivedAt: found.receivedAt };
    },
  };
}
export type ControlReceipts = ReturnType<typeof controlReceipts>;

/**
 * The control test's back-channel receiver on Curfew's own origin: it accepts only a logout
 * token that an RP would (OIDC Back-Channel Logout 1.0 §2.6, verified with Curfew's JWKS) for a
 * control-test client, so a pass proves a real RP would have been told.
 */
export function mountControlReceiver(router: Router, deps: { path: string; issuer: string; jwks: JSONWebKeySet; receipts: ControlReceipts; now: () => Promise<number>; isControlClient: (id: string) => boolean }): void {
  const keys = createLocalJWKSet(deps.jwks);
  const forms = bodyParser({ enableTypes: ['form'], formLimit: '16kb' });
  router.post(deps.path, forms, async (ctx) => {
    ctx.set('Cache-Control', 'no-store');
    const body = bodyFields(ctx);
    const token = typeof body.logout_token === 'string' ? body.logout_token : '';
    let valid: VerifiedLogoutToken;
    try {
      valid = await verifyLogoutToken(token, keys, deps.issuer, deps.isControlClient);
    } catch (cause) {
      // Back-Channel Logout 1.0 §2.8: a token the RP cannot validate is refused with 400 and OAuth error JSON.
      sendError(ctx, new CurfewError('invalid_request', 'the logout token is not valid', { cause }), 'oidc');
      return;
    }
    // Outside the try: a store that cannot answer is a 503 the sender retries, not a bad token it would dead-letter.
    await deps.receipts.record({ sid: valid.sid, client: valid.client, receivedAt: await deps.now() });
    ctx.status = 200;
  });
}
