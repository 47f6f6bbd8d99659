import type { Context } from 'koa';
import type Provider from 'oidc-provider';
import type { Authenticator } from '../../accounts/authenticate.ts';
import type { Audit } from '../../audit/audit.ts';
import type { MfaService } from '../../mfa/service.ts';
import type { SessionService } from '../../sessions/service.ts';
import type { DirectoryStore, SessionStore } from '../../store/types.ts';
import type { PendingSignIns } from './pending.ts';
import { CurfewError, isStoreUnavailable } from '../../errors.ts';
import { csrfValid } from '../../http/csrf.ts';

export interface InteractionDeps {
  provider: Provider;
  directory: DirectoryStore;
  authenticator: Authenticator;
  audit: Audit;
  mfa: MfaService;
  pending: PendingSignIns;
  sessions: Pick<SessionService, 'check' | 'sweep'>;
  sessionKeysOfUser: SessionStore['keysOfUser'];
}

export type Interaction = Awaited<ReturnType<Provider['interactionDetails']>>;

/** The interaction bound to this browser (signed cookie) and to the URL's uid. */
export async function loadInteraction(ctx: Context, provider: Provider): Promise<Interaction> {
  let interaction: Interaction;
  try {
    interaction = await provider.interactionDetails(ctx.req, ctx.res);
  } catch (cause) {
    // A store that cannot answer says nothing about the interaction: 503, not "expired".
    if (isStoreUnavailable(cause)) throw cause;
    throw new CurfewError('interaction_expired', 'This sign-in page has expired. Go back to the application and sign in again.', { cause });
  }
  if (interaction.uid !== ctx.params.uid) {
    throw new CurfewError('interaction_expired', 'This sign-in page belongs to another sign-in. Go back to the application and sign in again.');
  }
  return interaction;
}

export function formBody(ctx: Context): Record<string, unknown> {
  const body: unknown = ctx.request.body;
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

export function requireCsrf(ctx: Context, body: Record<string, unknown>): void {
  if (!csrfValid(ctx, body.csrf)) {
    throw new CurfewError('csrf_failed', 'The form could not be verified. Reload the page and try again.');
  }
}

export const stringField = (body: Record<string, unknown>, name: string): string => {
  const value = body[name];
  return typeof value === 'string' ? value : '';
};
