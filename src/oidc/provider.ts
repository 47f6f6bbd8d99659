import Provider, { interactionPolicy, type Configuration, type KoaContextWithOIDC } from 'oidc-provider';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logger.ts';
import type { ClientSecrets } from '../orgs/client-secret.ts';
import type { IdentifierHasher } from '../crypto/identifier-hash.ts';
import type { Store } from '../store/types.ts';
import { renderProviderError } from '../http/errors.ts';
import { renderPage } from '../http/views.ts';
import { createAdapter, type ExplainMissingClient } from './adapter.ts';
import { findAccount } from './account.ts';
import { ACR, CLAIMS, SCOPES } from './claims.ts';
import type { KeyMaterial } from './keys.ts';
import { autoConsentFirstParty, readGrantAhead } from './first-party-consent.ts';
import type { SessionService } from '../sessions/service.ts';
import type { ClientRecord } from '../orgs/types.ts';
import type { Enforcement } from './enforcement/index.ts';
import { patchProvider } from './provider-patches.ts';

export interface ProviderDeps {
  config: Config;
  store: Store;
  keys: KeyMaterial;
  hash: IdentifierHasher;
  clientSecrets: ClientSecrets;
  logger: Logger;
  sessions: SessionService;
  /** Curfew's session enforcement (src/oidc/enforcement): its prompt checks, adapter hooks and TTL. */
  enforcement: Enforcement;
  /** A client not found: really missing, or a wiped store (src/store/wipe-detection.ts)? */
  explainMissingClient?: ExplainMissingClient;
  /** Stands in for a client that does not exist, where telling so would reveal something (the console's). */
  decoyClient?: (id: string) => ClientRecord | undefined;
}

/** The request being served if the library reads a token's account next (grants, userinfo). */
function requestReadingAccount(): KoaContextWithOIDC | undefined {
  const ctx = Provider.ctx;
  const route = ctx?.oidc?.route;
  return route === 'token' || route === 'userinfo' ? ctx : undefined;
}

/** The library's login and consent prompts, plus Curfew's checks on the signed-in session. */
function curfewInteractionPolicy(enforcement: Enforcement) {
  const policy = interactionPolicy.base();
  const login = policy.get('login');
  if (!login) throw new Error('oidc-provider has no login prompt');
  for (const check of enforcement.loginChecks) login.checks.add(check);
  return policy;
}

function clientName(ctx: KoaContextWithOIDC): string | undefined {
  return ctx.oidc.client?.clientName ?? ctx.oidc.client?.clientId;
}

/**
 * Whether the browser is still signed in after the logout form was answered: the library lands
 * here both after "Yes, sign me out" (session destroyed) and after "No, stay signed in" (only the
 * asking client's authorization dropped, or nothing at all), with nothing telling them apart but
 * the session itself. A session Curfew judges dead is not a sign-in.
 */
async function stillSignedIn(ctx: KoaContextWithOIDC, sessions: SessionService): Promise<boolean> {
  const session = await ctx.oidc.provider.Session.get(ctx);
  if (!session.accountId) return false;
  return (await sessions.check(session.uid, undefined, 'passive')).sso === 'alive';
}

/** The pages and messages a user may see from the provider itself, in Curfew's look. */
function pagesFor(sessions: SessionService) {
  return {
    async logoutSource(ctx: KoaContextWithOIDC, form: string) {
      renderPage(ctx, 'logout', { client: clientName(ctx) ?? ctx.host, form });
    },
    // Issue 10 item 16: say what happened — "signed out" only when the session really ended.
    async postLogoutSuccessSource(ctx: KoaContextWithOIDC) {
      renderPage(ctx, 'logged-out', { client: clientName(ctx), signedIn: await stillSignedIn(ctx, sessions) });
    },
    async renderError(ctx: KoaContextWithOIDC, out: { error: string; error_description?: string }) {
      // Only the protocol error and its public description: never a stack or an internal message.
      renderProviderError(ctx, out);
    },
  };
}

/**
 * oidc-provider configured for Curfew: code flow with PKCE for every client, Curfew's own
 * interactions, the directory as the client registry, the store as the adapter.
 */
export function createProvider(deps: ProviderDeps): Provider {
  const { config, store, keys, hash, clientSecrets, logger, sessions, enforcement, explainMissingClient, decoyClient } = deps;
  const t = config.tokens;
  const pages = pagesFor(sessions);

  const configuration: Configuration = {
    adapter: createAdapter(store.models, store.directory, hash, enforcement, explainMissingClient, decoyClient, requestReadingAccount),
    findAccount: (ctx, sub) => {
      // The library loads the grant right after the account: both are read at once.
      readGrantAhead(ctx);
      return findAccount(store.directory, ctx, sub);
    },
    jwks: keys.jwks as Configuration['jwks'],
    cookies: {
      keys: keys.cookieKeys,
      names: { session: 'curfew.session', interaction: 'curfew.interaction', resume: 'curfew.resume' },
      long: { httpOnly: true, sameSite: 'lax', signed: true },
      short: { httpOnly: true, sameSite: 'lax', signed: true },
    },
    claims: CLAIMS,
    scopes: SCOPES,
    acrValues: [ACR.password, ACR.mfa],
    responseTypes: ['code'],
    // Secrets are stored hashed (src/orgs/client-secret.ts): nothing keyed by a client's secret
    // can work, so no client may authenticate with client_secret_jwt or use an HS algorithm.
    clientAuthMethods: ['client_secret_basic', 'client_secret_post', 'none'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS256', 'PS256', 'ES256'],
      requestObjectSigningAlgValues: ['RS256', 'PS256', 'ES256'],
      idTokenSigningAlgValues: ['RS256', 'ES256'],
    },
    pkce: { required: () => true },
    clientDefaults: {
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: 'RS256',
    },
    extraClientMetadata: {
      properties: ['org', 'firstParty', 'adminApi'],
      validator(_ctx, key, value) {
        if (key === 'org' && (typeof value !== 'string' || !value)) throw new Error('org is required');
        if ((key === 'firstParty' || key === 'adminApi') && typeof value !== 'boolean') {
          throw new Error(`${key} must be a boolean`);
        }
      },
    },
    features: {
      devInteractions: { enabled: false },
      resourceIndicators: { enabled: false },
      introspection: {
        enabled: true,
        // A client may introspect tokens of its own org only: an org's resource servers
        // must not learn about another tenant's tokens.
        async allowedPolicy(ctx, client, token) {
          if (token.clientId === client.clientId) return true;
          const owner = token.clientId ? await ctx.oidc.provider.Client.find(token.clientId) : undefined;
          return owner !== undefined && owner.org === client.org && client.clientAuthMethod !== 'none';
        },
      },
      revocation: {
        enabled: true,
        // A client revokes only its own tokens; anything else is refused as unauthorized.
        allowedPolicy: async (_ctx, client, token) => token.clientId === client.clientId,
      },
      clientCredentials: { enabled: true },
      backchannelLogout: { enabled: true },
      rpInitiatedLogout: {
        enabled: true,
        logoutSource: pages.logoutSource,
        postLogoutSuccessSource: pages.postLogoutSuccessSource,
      },
      userinfo: { enabled: true },
    },
    renderError: pages.renderError,
    interactions: {
      policy: curfewInteractionPolicy(enforcement),
      url: (_ctx, interaction) => `/interaction/${interaction.uid}`,
    },
    loadExistingGrant: autoConsentFirstParty,
    // Refresh tokens are session-bound (SPEC §1): they are issued to any client allowed the
    // grant, without offline_access, and die with the session.
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    expiresWithSession: async () => true,
    rotateRefreshToken: true,
    ttl: {
      AccessToken: (ctx) => enforcement.accessTokenTtl(ctx),
      AuthorizationCode: t.authorizationCodeSeconds,
      ClientCredentials: t.clientCredentialsSeconds,
      IdToken: t.idTokenSeconds,
      RefreshToken: t.refreshTokenSeconds,
      Interaction: t.interactionSeconds,
      Session: t.sessionSeconds,
      Grant: t.refreshTokenSeconds,
    },
    // Profile claims go into the ID token too: Curfew's RPs are mostly server-side apps that
    // want the username without a userinfo round trip.
    conformIdTokenClaims: false,
  };

  const provider = new Provider(config.issuer, configuration);
  provider.proxy = config.trustProxy;
  // Each trusted proxy appends the address it saw; entries left of those are whatever the
  // client sent. koa keeps only the rightmost `maxIpsCount` and takes the leftmost of them.
  provider.maxIpsCount = config.trustProxyHops;
  patchProvider(provider, { issuer: config.issuer, clientSecrets });
  forwardProviderErrors(provider, logger);
  return provider;
}

/** Library-internal failures reach pino with the request's route, never the client. */
function forwardProviderErrors(provider: Provider, logger: Logger): void {
  const log = logger.child({ component: 'oidc' });
  provider.on('server_error', (ctx: KoaContextWithOIDC, error: Error) => {
    log.error({ err: error, route: ctx.oidc?.route }, 'provider server_error');
  });
  // The library's typed overloads name one event each; these share one listener.
  const events: NodeJS.EventEmitter = provider;
  for (const event of ['authorization.error', 'grant.error', 'end_session.error', 'userinfo.error', 'introspection.error', 'revocation.error', 'backchannel.error'] as const) {
    events.on(event, (_ctx: unknown, error: Error & { error?: string; status?: number }) => {
      log.debug({ event, error: error.error ?? error.name, status: error.status, description: error.message }, 'provider rejected a request');
    });
  }
}
