import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import cluster from 'node:cluster';
import { createCurfew } from './app.ts';
import { isReloadSeed, superviseWorkers, workerCount, workerRole } from './cluster.ts';
import { ConfigError, loadConfig } from './config/load.ts';
import type { Config } from './config/schema.ts';
import { DEMO_CLIENT_ID } from './demo/demo-rp.ts';
import { createLogger } from './logger.ts';
import { parseSeed, readSeedFile, SeedError, type Seed } from './provisioning/seed.ts';
import { createMemoryStore } from './store/memory/index.ts';
import { createRedisStore } from './store/redis/index.ts';
import { describeTarget, type RedisTarget } from './store/redis/connection.ts';
import type { Store } from './store/types.ts';

const DEMO_SEED = fileURLToPath(new URL('../config/demo-seed.json', import.meta.url));

/** The demo seed names http://localhost:3000; a different ISSUER gets the demo app's URLs rewritten. */
async function demoSeed(issuer: string): Promise<Seed> {
  const text = (await readFile(DEMO_SEED, 'utf8')).replaceAll('http://localhost:3000', issuer);
  return parseSeed(JSON.parse(text), DEMO_SEED, [new URL(issuer).origin]);
}

async function openStore(config: Config): Promise<Store> {
  if (!config.redis.url) return createMemoryStore();
  const target: RedisTarget = {
    url: config.redis.url,
    ...(config.redis.sentinel ? { sentinel: config.redis.sentinel } : {}),
    ...(config.redis.cluster ? { cluster: { nodes: config.redis.cluster } } : {}),
  };
  const store = createRedisStore({
    ...target,
    prefix: config.redis.prefix,
    sessionRetainMs: config.redis.sessionRetainSeconds * 1000,
    pinnableClock: config.testing.pinnableClock,
    ...(target.cluster ? { shards: config.redis.clusterShards } : {}),
  });
  try {
    await store.ping();
  } catch (cause) {
    await store.close().catch(() => {});
    const settings = target.sentinel ? 'REDIS_URL, CURFEW_REDIS_SENTINELS, CURFEW_REDIS_SENTINEL_NAME' : target.cluster ? 'REDIS_URL, CURFEW_REDIS_CLUSTER' : 'REDIS_URL';
    throw new Error(`${describeTarget(target)} does not answer (${settings}): ${(cause as Error).message}`);
  }
  return store;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const workers = workerCount(config.workers);
  if (cluster.isPrimary && workers > 1) {
    superviseWorkers({ count: workers, logger: createLogger(config.logLevel), host: config.host });
    return;
  }
  const role = workerRole();
  const logger = role ? createLogger(config.logLevel).child({ worker: role.slot }) : createLogger(config.logLevel);
  if (config.issuer.startsWith('https:') && !config.trustProxy) {
    // Cookies are Secure regardless (the issuer's scheme is the public one); client IPs are not.
    logger.warn('ISSUER is https but CURFEW_TRUST_PROXY is off: sign-in limits and network rules see the TLS proxy\'s address, not the client\'s');
  }
  // The seed is validated before the store is touched: a bad seed changes nothing.
  const seed = config.seedFile ? await readSeedFile(config.seedFile, config.backchannel.allowlist) : config.redis.url ? undefined : await demoSeed(config.issuer);
  const store = await openStore(config);
  const demoClient = !config.seedFile && !config.redis.url
    ? seed?.orgs.flatMap((o) => o.clients).find((c) => c.client_id === DEMO_CLIENT_ID)
    : undefined;

  const curfew = await createCurfew({
    config,
    store,
    logger,
    ...(demoClient?.client_secret ? { demo: { clientSecret: demoClient.client_secret } } : {}),
  });
  if (seed && role?.seed === 'remember') curfew.rememberSeed(seed);
  else if (seed) await curfew.applySeed(seed);
  const port = await curfew.listen();
  curfew.startWorkers();

  // In a cluster the primary says "Curfew is serving" once every worker is.
  logger.info({ port, host: config.host ?? '*', issuer: config.issuer, store: store.kind }, role ? 'worker is serving' : 'Curfew is serving');
  if (demoClient) {
    const users = seed!.orgs[0]!.users;
    const adminClient = seed!.orgs[0]!.clients.find((c) => c.adminApi && c.client_secret);
    process.stdout.write(
      [
        '',
        `Curfew is running on the embedded in-memory store (set REDIS_URL for Redis).`,
        `  Discovery: ${config.issuer}/.well-known/openid-configuration`,
        `  Sign in:   open ${config.issuer}/demo in a browser, as one of:`,
        ...users.map((u) => `               ${u.username} / ${u.password}`),
        `  Logouts:   ${config.issuer}/demo/logouts shows the logout tokens the demo app received`,
        ...(adminClient ? [
          `  Admin API: client ${adminClient.client_id} / ${adminClient.client_secret} (client credentials, scope admin):`,
          `               curl -u ${adminClient.client_id}:${adminClient.client_secret} -d grant_type=client_credentials -d scope=admin ${config.issuer}/token`,
        ] : []),
        '',
      ].join('\n') + '\n',
    );
  }

  // SIGHUP re-reads CURFEW_SEED: a changed policy applies to live sessions at once. In a
  // cluster the primary takes the signal and asks one worker to apply, the others to remember.
  const reloadSeed = (apply: boolean) => {
    if (!config.seedFile) return;
    readSeedFile(config.seedFile, config.backchannel.allowlist)
      .then((next) => (apply ? curfew.applySeed(next) : curfew.rememberSeed(next)))
      .then(() => apply && logger.info({ seed: config.seedFile }, 'seed reloaded'))
      .catch((err: unknown) => logger.error({ err: err instanceof Error ? err.message : err }, 'seed reload failed; nothing changed'));
  };
  if (role) {
    process.on('SIGHUP', () => {});
    process.on('message', (message) => {
      if (isReloadSeed(message)) reloadSeed(message.apply);
    });
  } else {
    process.on('SIGHUP', () => reloadSeed(true));
  }

  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    await curfew.close();
    await store.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError || error instanceof SeedError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`Curfew could not start: ${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
