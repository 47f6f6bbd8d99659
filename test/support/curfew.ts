import { Writable } from 'node:stream';
import * as oidc from 'openid-client';
import { createCurfew, type Curfew, type CurfewOptions } from '../../src/app.ts';
import { loadConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { createLogger } from '../../src/logger.ts';
import { parseSeed } from '../../src/provisioning/seed.ts';
import { createMemoryStore } from '../../src/store/memory/index.ts';
import { createRedisStore } from '../../src/store/redis/index.ts';
import type { ClusterTarget, RedisTarget, SentinelTarget } from '../../src/store/redis/connection.ts';
import type { Store } from '../../src/store/types.ts';
import { ManualClock } from '../../src/clock.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from './redis.ts';
import { manualSharedClock, redisSharedClock, type SharedClock } from './shared-clock.ts';
import { UserAgent } from './user-agent.ts';
import { freePort } from './process.ts';

export type StoreKind = 'memory' | 'redis';
export const STORE_KINDS: StoreKind[] = ['memory', 'redis'];

export const RP_CALLBACK = 'http://127.0.0.1:9/callback';
export const RP_LOGGED_OUT = 'http://127.0.0.1:9/logged-out';

export const PASSWORDS = { alice: 'alice password 1', bob: 'bob password 12', carol: 'carol password 1', dave: 'dave password 12' } as const;

const POLICY = { idleTimeoutSeconds: 900, absoluteTimeoutSeconds: 43200, warningSeconds: 120, mfa: 'off' };

/** Two orgs, each with users and an RP; `acme` also has a third-party app and an admin API client. */
export function testSeed() {
  const client = (client_id: string, extra: Record<string, unknown> = {}) => ({
    client_id,
    client_secret: `${client_id}-secret-0123456789`,
    redirect_uris: [RP_CALLBACK],
    post_logout_redirect_uris: [RP_LOGGED_OUT],
    ...extra,
  });
  return {
    orgs: [
      {
        id: 'acme',
        name: 'Acme',
        policy: POLICY,
        users: [
          { username: 'alice', password: PASSWORDS.alice, roles: ['staff'] },
          { username: 'bob', password: PASSWORDS.bob, roles: ['admin'] },
          { username: 'dave', password: PASSWORDS.dave, roles: [], disabled: true },
        ],
        clients: [
          client('acme-app'),
          client('acme-other'),
          client('acme-partner', { firstParty: false }),
          client('acme-admin', { adminApi: true }),
          { client_id: 'acme-spa', redirect_uris: [RP_CALLBACK], post_logout_redirect_uris: [RP_LOGGED_OUT] },
        ],
      },
      {
        id: 'globex',
        name: 'Globex',
        policy: POLICY,
        users: [{ username: 'carol', password: PASSWORDS.carol, roles: [] }],
        clients: [client('globex-app')],
      },
    ],
  };
}


export interface Harness {
  url: string;
  curfew: Curfew;
  store: Store;
  config: Config;
  logs: string[];
  /** The store's shared clock, pinned at the harness's start; tests move it. */
  clock: SharedClock;
  /** The authenticators' time (TOTP), separate from the sessions' clock; tests move it. */
  totp: ManualClock;
  /** An openid-client configuration for a client: the seed's secret, or `clientSecret`. */
  rp(clientId: string, clientSecret?: string): Promise<oidc.Configuration>;
  userAgent(options?: { ip?: string }): UserAgent;
  close(): Promise<void>;
}

/** A Curfew instance on a free loopback port over a fresh store, seeded with {@link testSeed}. */
export async function startCurfew(
  kind: StoreKind,
  options: { seed?: unknown; config?: Record<string, unknown>; prefix?: string; port?: number; redis?: { url?: string; sentinel?: SentinelTarget; cluster?: ClusterTarget; commandTimeoutMs?: number } } & Pick<CurfewOptions, 'endFaults' | 'deliveryFaults'> = {},
): Promise<Harness> {
  const port = options.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const prefix = options.prefix ?? freshPrefix(kind);
  const config = loadConfig({ LOG_LEVEL: 'debug' }, { port, issuer: url, trustProxy: true, ...options.config });
  // This machine's now, real or not (the suite also runs under faketime): the RP libraries under
  // test judge tokens by this machine's clock, and Redis' own clock only ever sees relative TTLs.
  const start = Date.now();
  const manual = new ManualClock(start);
  const redisUrl = options.redis?.url ?? REDIS_URL;
  const target: RedisTarget = { url: redisUrl, ...(options.redis?.sentinel ? { sentinel: options.redis.sentinel } : {}), ...(options.redis?.cluster ? { cluster: options.redis.cluster } : {}) };
  const store = kind === 'memory' ? createMemoryStore({ clock: manual }) : createRedisStore({ ...target, prefix, pinnableClock: true, ...(options.redis?.commandTimeoutMs ? { commandTimeoutMs: options.redis.commandTimeoutMs } : {}) });
  const clock = kind === 'memory' ? manualSharedClock(manual) : await redisSharedClock(prefix, start, target);
  const logs: string[] = [];
  const sink = new Writable({
    write(chunk, _enc, done) {
      logs.push(String(chunk));
      done();
    },
  });
  const logger = createLogger('debug', sink);
  const totp = new ManualClock(start);
  const faults = { ...(options.endFaults ? { endFaults: options.endFaults } : {}), ...(options.deliveryFaults ? { deliveryFaults: options.deliveryFaults } : {}) };
  const curfew = await createCurfew({ config, store, logger, totpClock: totp, ...faults });
  const seed = parseSeed(options.seed ?? testSeed(), '(test seed)', config.backchannel.allowlist);
  await curfew.applySeed(seed);
  // The store holds only hashes of client secrets: RPs use the seed's.
  const seedSecrets = new Map(seed.orgs.flatMap((o) => o.clients).map((c) => [c.client_id, c.client_secret]));
  await curfew.listen(port, '127.0.0.1');

  return {
    url,
    curfew,
    // The instance's own view: its directory writes drop the instance's cache of clients and orgs
    // at once, as an admin's write through this instance does (other instances hear it by pub/sub).
    store: curfew.store,
    config,
    logs,
    clock,
    totp,
    async rp(clientId, clientSecret) {
      const client = await store.directory.getClient(clientId);
      if (!client) throw new Error(`no client ${clientId}`);
      // The store holds only a hash: the secret is the seed's, or the one the test registered.
      const secret = clientSecret ?? seedSecrets.get(clientId);
      if (client.client_secret_hash !== undefined && secret === undefined) throw new Error(`client ${clientId} has a secret: pass it to rp()`);
      const auth = secret ? oidc.ClientSecretBasic(secret) : oidc.None();
      return oidc.discovery(new URL(url), clientId, undefined, auth, { execute: [oidc.allowInsecureRequests] });
    },
    userAgent: (o) => new UserAgent(url, o),
    async close() {
      await curfew.close();
      await clock.close();
      if (kind === 'redis' && redisUrl === REDIS_URL) await deletePrefix(prefix);
      await store.close();
    },
  };
}

export interface SignIn {
  tokens: oidc.TokenEndpointResponse & oidc.TokenEndpointResponseHelpers;
  claims: oidc.IDToken;
}

/** Starts an authorization request as the RP would, with PKCE, state and nonce. */
export async function authorizationUrl(rp: oidc.Configuration, extra: Record<string, string> = {}) {
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const url = oidc.buildAuthorizationUrl(rp, {
    redirect_uri: RP_CALLBACK,
    scope: 'openid profile',
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: 'S256',
    state,
    nonce,
    ...extra,
  });
  return { url, verifier, state, nonce };
}

/** The RP's half: the callback URL the browser landed on, exchanged for tokens and checked. */
export async function completeSignIn(rp: oidc.Configuration, callback: string, request: { verifier: string; state: string; nonce: string }): Promise<SignIn> {
  const tokens = await oidc.authorizationCodeGrant(rp, new URL(callback), {
    pkceCodeVerifier: request.verifier,
    expectedState: request.state,
    expectedNonce: request.nonce,
  });
  return { tokens, claims: tokens.claims()! };
}

/** A full sign-in through the login form, as a person in a browser. */
export async function signIn(h: Harness, ua: UserAgent, clientId: string, username: keyof typeof PASSWORDS, extra: Record<string, string> = {}): Promise<SignIn> {
  const rp = await h.rp(clientId);
  const request = await authorizationUrl(rp, extra);
  let page = await ua.navigate(request.url.href);
  if (!page.leftTo && /\/login"/.test(page.html)) page = await ua.submit(page, '/login', { username, password: PASSWORDS[username] });
  if (!page.leftTo && /\/confirm"/.test(page.html)) page = await ua.submit(page, '/confirm');
  if (!page.leftTo) throw new Error(`sign-in did not return to the RP (status ${page.status}): ${page.html.slice(0, 400)}`);
  return completeSignIn(rp, page.leftTo, request);
}
