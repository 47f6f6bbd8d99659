import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import type { JSONWebKeySet } from 'jose';
import type Provider from 'oidc-provider';
import { createAuthenticator } from './accounts/authenticate.ts';
import { createAudit, type Audit } from './audit/audit.ts';
import type { Config } from './config/schema.ts';
import { demoRoutes } from './demo/demo-rp.ts';
import { answerUnparsableRequest, errorHandler, retryAfterOnUnavailable } from './http/errors.ts';
import { createMetrics } from './ops/metrics.ts';
import { opsRoutes } from './ops/ops-routes.ts';
import { createEnforcement } from './oidc/enforcement/index.ts';
import { accountRoutes } from './accounts/http/account-routes.ts';
import { sessionStatusRoutes } from './sessions/http/status-routes.ts';
import { sdkRoutes } from './sdk/sdk-routes.ts';
import { createSessionService, type EndFaults, type SessionService } from './sessions/service.ts';
import { changePolicy, type PolicyChange } from './sessions/change-policy.ts';
import type { Policy } from './sessions/policy-types.ts';
import { applySeed, type Seed } from './provisioning/seed.ts';
import { createClientSecrets, sealLegacyClientSecrets } from './orgs/client-secret.ts';
import { createDirectoryCache } from './orgs/directory-cache.ts';
import { systemClock, type Clock } from './clock.ts';
import { createSecretBox, parseKeyring } from './mfa/secret-box.ts';
import { createMfaService, type MfaService } from './mfa/service.ts';
import { stepUpAfterTimeouts } from './mfa/step-up.ts';
import { enqueueLogoutTokens } from './logout/enqueue.ts';
import { createLogoutTokenSigner } from './logout/logout-token.ts';
import { createLogoutSender, type DeliveryFaults, type LogoutSender } from './logout/sender.ts';
import { createSigningPool, signingThreadCount } from './logout/signing-pool.ts';
import { sharedEndReads } from './orgs/shared-reads.ts';
import { singleFlight } from './single-flight.ts';
import { createSweeper, type Sweeper } from './sessions/sweeper.ts';
import { requireAdminToken } from './admin/auth.ts';
import { adminRoutes } from './admin/routes.ts';
import { decoyConsoleClient, ensureConsoleClients } from './admin/console/console-client.ts';
import { consoleSessions } from './admin/console/console-sessions.ts';
import { endConsoleSessions } from './admin/console/console-admin.ts';
import { consoleRoutes } from './admin/console/routes.ts';
import { createCompliance, type Compliance } from './compliance/routes.ts';
import { gatedRoutes } from './http/route-gate.ts';
import { createPendingSignIns } from './oidc/interactions/pending.ts';
import type { Logger } from './logger.ts';
import { interactionRoutes } from './oidc/interactions/routes.ts';
import { keyFingerprint, loadKeyMaterial, restoreKeyMaterial } from './oidc/keys.ts';
import { createProvider } from './oidc/provider.ts';
import { createIdentifierHasher } from './crypto/identifier-hash.ts';
import type { Store } from './store/types.ts';
import { timeStoreCalls } from './store/time-store-calls.ts';
import { createWipeWatch, type WipeWatch } from './store/wipe-detection.ts';

export interface CurfewOptions {
  config: Config;
  store: Store;
  logger: Logger;
  /** Mounts the demo relying party at /demo, with this client secret (embedded default only). */
  demo?: { clientSecret: string };
  /** Time for TOTP codes (an authenticator's time, not the sessions' shared clock); tests set it. */
  totpClock?: Clock;
  /** Tests only: awaited between the steps of every session end (fault injection). */
  endFaults?: EndFaults;
  /** Tests only: awaited after an RP acknowledged a logout token, before it is marked delivered. */
  deliveryFaults?: DeliveryFaults;
  /** How often the store's marker is read (wipe detection); tests shorten it. */
  wipeCheckMs?: number;
}

export interface Curfew {
  provider: Provider;
  store: Store;
  audit: Audit;
  sessions: SessionService;
  mfa: MfaService;
  /** Finds sessions past a deadline (started by startWorkers; tests tick it by hand). */
  sweeper: Sweeper;
  /** Delivers queued logout tokens (started by startWorkers; tests tick it by hand). */
  sender: LogoutSender;
  /** SPEC §13: the evidence report and the control test (its schedule starts with the workers). */
  compliance: Compliance;
  /** Notices a store that lost its state and re-applies the last seed and the key material. */
  wipeWatch: WipeWatch;
  /** Starts the sweeper and the delivery worker in the background. */
  startWorkers(): void;
  /** SPEC §9: disabling a user ends their sessions (reason user_disabled). */
  disableUser(userId: string): Promise<void>;
  /** Deleting a user ends their sessions too. */
  deleteUser(userId: string): Promise<void>;
  /** Applies a seed; a changed policy of an existing org reaches its live sessions at once. */
  applySeed(seed: Seed): Promise<void>;
  /** A seed another worker applied: the one this instance re-applies should it restore a wiped store. */
  rememberSeed(seed: Seed): void;
  /** SPEC §4: stores a valid policy and applies it to the org's live sessions now. */
  changePolicy(org: string, policy: Policy, actor: string): Promise<PolicyChange | undefined>;
  /** Starts serving; resolves with the bound port (config.port 0 picks a free one). */
  listen(port?: number, host?: string): Promise<number>;
  close(): Promise<void>;
}

/** How long a stopping instance lets in-flight requests finish (orchestrators allow ~30 s). */
const SHUTDOWN_GRACE_MS = 10_000;

function publicJwks(keys: { keys: Record<string, unknown>[] }): JSONWebKeySet {
  const privateMembers = new Set(['d', 'p', 'q', 'dp', 'dq', 'qi']);
  return {
    keys: keys.keys.map((k) => Object.fromEntries(Object.entries(k).filter(([name]) => !privateMembers.has(name)))),
  } as JSONWebKeySet;
}

/**
 * Assembles one Curfew instance over a store. Curfew's own routes run before the provider's
 * (oidc-provider's `use` inserts ahead of its router), so the provider is the HTTP app itself.
 */
export async function createCurfew({ config, store: untimed, logger, demo, totpClock, endFaults, deliveryFaults, wipeCheckMs }: CurfewOptions): Promise<Curfew> {
  const metrics = createMetrics();
  const timed = timeStoreCalls(untimed, metrics.storeCall);
  // Clients and orgs are answered from memory, dropped on the change feed's word (issue 14: a
  // refresh or a userinfo must not pay a client read); every part of the instance reads through it.
  const directoryCache = createDirectoryCache(timed.directory, timed.changes);
  const store: Store = { ...timed, directory: directoryCache.directory };
  const keys = await loadKeyMaterial(config, store.secrets);
  const hash = createIdentifierHasher(keys.identifierKey);
  const clientSecrets = createClientSecrets(keys.identifierKey);
  // What Curfew's own receivers verify logout tokens with: the signing keys' public halves.
  const verificationKeys = publicJwks(keys.jwks as { keys: Record<string, unknown>[] });
  const audit = createAudit(store.audit, logger);
  const mfa = createMfaService({
    store: store.mfa,
    box: createSecretBox(parseKeyring(keys.totpKeys)),
    limiter: store.rateLimiter({ name: 'totp', points: config.mfa.lockoutFailures, durationSeconds: config.mfa.lockoutSeconds, blockSeconds: config.mfa.lockoutSeconds }),
    audit,
    clock: totpClock ?? systemClock,
    issuerLabel: config.mfa.issuerLabel,
    signals: metrics.mfa,
  });
  // The reads every end of a wave makes (its org, its clients, the shared clock twice), shared
  // while in flight: a wave of ends makes a few of them, not a few per end (issue 14). Nothing is
  // kept past the read (src/single-flight.ts).
  const endReads = sharedEndReads(store.directory);
  const clockRead = singleFlight(() => store.now());
  const now = () => clockRead('now');
  // SPEC §9 and §8: what every end owes beyond the store, in this order (src/sessions/service.ts `finish`).
  const sessions = createSessionService({
    store: { sessions: store.sessions, ended: store.ended, audit: store.audit, directory: store.directory, models: store.models, now },
    hash,
    audit,
    logger,
    endLeaseMs: config.sweeper.leaseMs,
    signals: metrics.sessions,
    consequences: {
      'deliveries-queued': enqueueLogoutTokens({ now, directory: endReads, ended: store.ended }, (queued) => {
        for (const d of queued) metrics.logoutLag.observe({ stage: 'enqueued' }, Math.max(0, d.enqueuedAt - d.endedAt) / 1000);
        // This instance's sender takes them at once (other instances' find them at their poll).
        sender.wake();
      }),
      'step-up-required': stepUpAfterTimeouts(endReads, mfa),
    },
    ...(endFaults ? { faults: endFaults } : {}),
  });
  const changeOrgPolicy = (org: string, policy: Policy, actor: string) => changePolicy({ directory: store.directory, sessions, audit }, org, policy, actor);
  metrics.readFrom({
    ping: () => store.ping(),
    async read() {
      const orgs = (await store.directory.listOrgs()).map((org) => org.id);
      const [sessionCensus, rpSessions, deliveries, outbox] = await Promise.all([
        store.sessions.census(),
        store.sessions.liveRpSessions(),
        store.deliveries.census(orgs),
        store.ended.size(),
      ]);
      return { sessions: sessionCensus, rpSessions, deliveries, outbox };
    },
  });
  // Issue 14: with CURFEW_SIGNING_THREADS the tokens of a wave are signed and POSTed on threads,
  // beside the ends on this loop.
  const signingThreads = signingThreadCount(config.backchannel.signingThreads);
  const signingPool = signingThreads > 0
    ? createSigningPool({ jwks: keys.jwks, threads: signingThreads, poster: config.backchannel, logger })
    : undefined;
  const sender = createLogoutSender({
    store: { deliveries: store.deliveries, directory: endReads },
    audit,
    logger,
    issuer: config.issuer,
    sign: createLogoutTokenSigner(keys.jwks),
    ...(signingPool ? { pool: signingPool } : {}),
    // Curfew's own console receives logout tokens on Curfew's own origin.
    options: { ...config.backchannel, allowlist: [...config.backchannel.allowlist, new URL(config.issuer).origin] },
    lag: metrics.logoutLag,
    signals: metrics.deliveries,
    ...(deliveryFaults ? { faults: deliveryFaults } : {}),
  });
  const sweeper = createSweeper({ store: store.sessions, sessions, logger }, config.sweeper);
  const enforcement = createEnforcement({ sessions, directory: store.directory, mfa, accessTokenSeconds: config.tokens.accessTokenSeconds });
  const provider = createProvider({ config, store, keys, hash, clientSecrets, logger, sessions,
    enforcement,
    explainMissingClient: () => wipeWatch.explainMiss(),
    decoyClient: (id) => decoyConsoleClient(id, config.issuer),
  });
  const login = config.login;
  const authenticator = createAuthenticator(store.directory, {
    account: store.rateLimiter({ name: 'login-account', points: login.accountFailures, durationSeconds: login.accountWindowSeconds, blockSeconds: login.accountBlockSeconds }),
    ip: store.rateLimiter({ name: 'login-ip', points: login.ipFailures, durationSeconds: login.ipWindowSeconds, blockSeconds: login.ipBlockSeconds }),
  }, metrics.signIns);

  async function disableUser(userId: string): Promise<void> {
    // A compare-and-set: a concurrent edit of the user (roles, password) cannot re-enable them.
    if (!(await store.directory.updateUser(userId, (user) => ({ ...user, disabled: true })))) return;
    await sessions.endUserSessions(userId, 'user_disabled');
  }
  async function deleteUser(userId: string): Promise<void> {
    await sessions.endUserSessions(userId, 'user_disabled');
    await store.directory.deleteUser(userId);
    await mfa.reset(userId);
  }

  // The seed last applied: what a wiped store gets back (with the key material this instance holds).
  let appliedSeed: Seed | undefined;
  async function applySeedNow(seed: Seed): Promise<void> {
    await applySeed(seed, store.directory, audit, clientSecrets, {
      enrollTotp: (user, secret) => mfa.enrollSecret(user, secret),
      changePolicy: async (org, policy) => {
        await changePolicy({ directory: store.directory, sessions, audit }, org, policy, 'system:seed');
      },
      adminRemoved: async (user) => {
        await endConsoleSessions(sessions, user);
      },
    });
    await ensureConsoleClients(store.directory, config.issuer, hash, clientSecrets);
    appliedSeed = seed;
  }
  const wipeWatch = createWipeWatch({
    marker: store.marker,
    expected: keyFingerprint(config, keys),
    logger,
    ...(wipeCheckMs ? { intervalMs: wipeCheckMs } : {}),
    // A wipe (FLUSHALL, a restart without persistence) publishes no change: the cached clients
    // and orgs go when it is noticed, and again once the seed is back.
    changed: () => directoryCache.dropAll(),
    async restore() {
      const differ = await restoreKeyMaterial(config, store.secrets, keys);
      if (differ.length) {
        logger.error({ keys: differ }, 'the wiped store was given other key material by another instance');
        return 'diverged';
      }
      if (appliedSeed) await applySeedNow(appliedSeed);
      else await ensureConsoleClients(store.directory, config.issuer, hash, clientSecrets);
      return 'restored';
    },
  });

  const consoleSessionStore = consoleSessions(store.models, hash, 12 * 3600);
  let server: Server | undefined;
  let boundPort = 0;
  const routes = [
    opsRoutes(store, metrics, () => wipeWatch.check()),
    interactionRoutes({
      provider,
      directory: store.directory,
      authenticator,
      audit,
      mfa,
      pending: createPendingSignIns(store.models, hash, config.tokens.interactionSeconds),
      sessions,
      sessionKeysOfUser: (user) => store.sessions.keysOfUser(user),
      bodyLimitKb: config.bodyLimits.signInFormKb,
    }),
    sessionStatusRoutes({
      provider,
      sessions,
      directory: store.directory,
      activityLimiter: store.rateLimiter({ name: 'session-activity', points: config.activity.reportsPerMinute, durationSeconds: 60, blockSeconds: 60 }),
      hash,
      bodyLimitKb: config.bodyLimits.sessionApiKb,
    }),
    sdkRoutes(),
    accountRoutes(provider, sessions, store.directory, config.bodyLimits.accountFormKb),
    adminRoutes({
      provider,
      store,
      sessions,
      mfa,
      audit,
      backchannelAllowlist: config.backchannel.allowlist,
      clientSecrets,
      changePolicy: changeOrgPolicy,
      disableUser: (id) => disableUser(id),
      deleteUser: (id) => deleteUser(id),
      console: { consoleSessions: consoleSessionStore, sessions },
      bodyLimitKb: config.bodyLimits.adminApiKb,
    }),
  ];
  const compliance = createCompliance({
    provider,
    store,
    sessions,
    audit,
    hash,
    clientSecrets,
    logger,
    issuer: config.issuer,
    internalBase: () => `http://127.0.0.1:${boundPort}`,
    publicJwks: verificationKeys,
    changePolicy: changeOrgPolicy,
    // The console's sessions may read the report and start the control test too.
    adminAuth: requireAdminToken(provider, { consoleSessions: consoleSessionStore, sessions, directory: store.directory }),
    settings: config.compliance,
  });
  routes.push(compliance.router);
  routes.push(consoleRoutes({
    provider,
    store,
    sessions,
    mfa,
    audit,
    hash,
    consoleSessions: consoleSessionStore,
    internalBase: () => `http://127.0.0.1:${boundPort}`,
    publicJwks: verificationKeys,
    changePolicy: changeOrgPolicy,
    disableUser,
    compliance,
    deleteUser,
    backchannelAllowlist: config.backchannel.allowlist,
    clientSecrets,
    bodyLimitKb: config.bodyLimits.consoleFormKb,
  }));
  await sealLegacyClientSecrets(store.directory, clientSecrets);
  await ensureConsoleClients(store.directory, config.issuer, hash, clientSecrets);
  if (demo) {
    routes.push(demoRoutes({
      provider,
      clientSecret: demo.clientSecret,
      internalBase: () => `http://127.0.0.1:${boundPort}`,
      publicJwks: verificationKeys,
    }));
  }

  provider.use(metrics.middleware);
  provider.use(retryAfterOnUnavailable);
  provider.use(errorHandler(logger));
  provider.use(enforcement.afterResponse);
  for (const router of routes) provider.use(gatedRoutes(router));

  // Last, once nothing above can fail: until then every read went to the store, and a failed
  // start leaves no subscription (a Redis connection) behind.
  await directoryCache.start();

  return {
    provider,
    store,
    audit,
    sessions,
    mfa,
    sweeper,
    sender,
    compliance,
    wipeWatch,
    startWorkers() {
      sweeper.start();
      sender.start();
      compliance.schedule?.start();
    },
    disableUser,
    deleteUser,
    changePolicy: changeOrgPolicy,
    applySeed: applySeedNow,
    rememberSeed(seed) {
      appliedSeed = seed;
    },
    async listen(port = config.port, host = config.host) {
      // After the seed: a new store gets this deployment's marker, an existing one is checked.
      await wipeWatch.start();
      const handle = provider.callback();
      server = createServer(config.testing.workerHeader
        ? (req, res) => {
            res.setHeader('x-curfew-worker-pid', String(process.pid));
            return handle(req, res);
          }
        : handle);
      // Keep-alive longer than typical proxy idle timeouts, so proxies never reuse a closed socket.
      server.keepAliveTimeout = 65_000;
      server.headersTimeout = 66_000;
      // Node's parser refuses some requests before koa sees them (headers over 16 KiB, a
      // malformed request line): they get Curfew's error shape too, not a bare status.
      server.on('clientError', answerUnparsableRequest);
      await new Promise<void>((resolve, reject) => {
        server!.once('error', reject);
        server!.listen(port, host, () => resolve());
      });
      boundPort = (server.address() as AddressInfo).port;
      return boundPort;
    },
    async close() {
      // Stop accepting first, then let the workers finish the batch they hold (a claimed
      // delivery is attempted, not left to its lease) while in-flight requests complete.
      const closed = server ? new Promise<void>((resolve) => server!.close(() => resolve())) : Promise.resolve();
      server?.closeIdleConnections();
      wipeWatch.stop();
      // Ends answered before they were finished (a logout) finish first: their tokens reach the sender.
      await sessions.settle();
      await Promise.all([sweeper.stop(), sender.stop(), compliance.stop()]);
      // After the sender: the attempts it finished on stopping needed the threads.
      await signingPool?.close();
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, SHUTDOWN_GRACE_MS)));
      await Promise.race([closed, grace]);
      clearTimeout(timer);
      // Requests still running after the grace period, and idle keep-alive sockets, are cut.
      server?.closeAllConnections();
      await closed;
      // And those the last requests answered: finished before the store closes under them.
      await sessions.settle();
      await directoryCache.close();
    },
  };
}
