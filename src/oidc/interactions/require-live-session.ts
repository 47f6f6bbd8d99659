import type Provider from 'oidc-provider';
import type { Interaction, InteractionDeps } from './context.ts';

/**
 * A step-up that skips the password stands on the SSO session that had it: that session must
 * be alive now, by the shared clock, and still the same user's — when the page is shown and
 * again when the second factor is submitted. Using the form is the user's activity (SPEC §5),
 * so a live session is touched, which keeps it alive through the sign-in that follows. A dead
 * one is ended here (leaving its step-up requirement), and the caller asks for the password.
 */
export async function sessionStanding(deps: Pick<InteractionDeps, 'sessions'>, sessionUid: string | undefined, accountId: string): Promise<'carries' | 'ended' | 'other_user'> {
  if (sessionUid === undefined) return 'carries';
  const check = await deps.sessions.check(sessionUid, undefined, 'active');
  if (check.sso !== 'alive') return 'ended';
  return check.session?.user === accountId ? 'carries' : 'other_user';
}

/** The client's authorization request again, as it was sent (the provider validated it then). */
export function restartAuthorization(provider: Provider, interaction: Interaction): string {
  const url = new URL(provider.urlFor('authorization'));
  for (const [name, value] of Object.entries(interaction.params)) {
    if (typeof value === 'string') url.searchParams.set(name, value);
  }
  return url.href;
}
