import type Provider from 'oidc-provider';
import type { KoaContextWithOIDC } from 'oidc-provider';
import type { ClientSecrets } from '../orgs/client-secret.ts';

/**
 * Every place Curfew changes oidc-provider's own behaviour rather than configuring it: a
 * prototype method replaced, a request property redefined, a field deleted through the session
 * proxy. Each is a named function with its reason, and each has its own test
 * (test/oidc/provider-patches.test.ts), so a library upgrade that breaks one is caught by name.
 */

/** The patches a Curfew provider gets once, at creation. */
export function patchProvider(provider: Provider, { issuer, clientSecrets }: { issuer: string; clientSecrets: ClientSecrets }): void {
  publicProtocolIsTheIssuers(provider, issuer);
  compareHashedClientSecrets(provider, clientSecrets);
  alwaysIncludeSid(provider);
  queueOwnsBackchannelLogout(provider);
}

/**
 * Curfew speaks plain HTTP; an https issuer means TLS ends at a proxy in front of it. Whether
 * that proxy's X-Forwarded-Proto is trusted (CURFEW_TRUST_PROXY) or sent at all, the public
 * protocol is the issuer's, so every request of this app counts as https: each cookie — the
 * provider's session and interaction cookies and Curfew's own (CSRF, console) — gets `Secure`,
 * and none goes out over the public network in the clear (audit item 14).
 */
export function publicProtocolIsTheIssuers(provider: Provider, issuer: string): void {
  if (new URL(issuer).protocol !== 'https:') return;
  Object.defineProperty(provider.request, 'protocol', { get: () => 'https', configurable: true });
}

/**
 * The provider's client holds the stored hash as its `clientSecret`; every secret check (token
 * endpoint, introspection, revocation, Curfew's status endpoints) goes through this one compare.
 */
export function compareHashedClientSecrets(provider: Provider, secrets: ClientSecrets): void {
  Object.defineProperty(provider.Client.prototype, 'compareClientSecret', {
    value(this: { clientSecret?: string }, actual: string) {
      return secrets.matches(this.clientSecret, actual);
    },
    configurable: true,
  });
}

/**
 * SPEC §8: every ID token carries `sid`. The library adds it only for clients registered for
 * session-bound back-channel logout; Curfew's RPs all get it, so they can correlate logout tokens
 * and report activity (`/session/activity`) for their session.
 */
export function alwaysIncludeSid(provider: Provider): void {
  Object.defineProperty(provider.Client.prototype, 'includeSid', { value: () => true, configurable: true });
}

/**
 * The library would POST logout tokens itself on RP-initiated logout, once, without retry.
 * Curfew's durable queue (src/logout) delivers every end instead, so the library sends nothing.
 */
export function queueOwnsBackchannelLogout(provider: Provider): void {
  Object.defineProperty(provider.Client.prototype, 'backchannelLogout', { value: async () => {}, configurable: true });
}

type ProviderSession = NonNullable<KoaContextWithOIDC['oidc']['session']>;

/**
 * Forgets the browser's sign-in, so the provider asks for a new one (and prompt=none fails).
 * The library's session proxy refuses an empty accountId but lets it be deleted; assigning
 * authorizations marks the session touched, so the forgetting is saved.
 */
export function forgetLogin(session: ProviderSession): void {
  const fields: Partial<Record<'accountId' | 'acr' | 'amr' | 'loginTs', unknown>> = session;
  for (const field of ['accountId', 'acr', 'amr', 'loginTs'] as const) delete fields[field];
  session.authorizations = {};
}
