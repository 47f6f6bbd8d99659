import { isIP } from 'node:net';
import { z } from 'zod';

/**
 * Every setting Curfew reads, in one place: its type, its default, its environment variable and
 * what it means. The loader (load.ts) and the README's configuration table (`npm run docs:config`,
 * checked by test/config/settings.test.ts) are both derived from this module, so they cannot drift.
 */

/** How an environment variable's text becomes the value the schema then validates. */
export type EnvParser = 'integer' | 'boolean' | 'list' | 'json' | 'text' | 'workers';

export interface SettingMeta {
  /** The environment variable that sets it. */
  env: string;
  parse: EnvParser;
  /** Markdown, one line: what it does and why one would change it. */
  description: string;
  /** May be given as `<env>_FILE` instead (Docker and Kubernetes secrets). */
  secret?: boolean;
  /** The README's words for a setting with no fixed default ("generated", "every interface"). */
  unsetMeans?: string;
}

/** Leaf settings, found by the loader and the README generator by walking the schema. */
export const settingRegistry = z.registry<SettingMeta>();

/** A setting with a default. */
function setting<T extends z.ZodType>(type: T, fallback: z.util.NoUndefined<z.output<T>>, meta: Omit<SettingMeta, 'unsetMeans'>) {
  const schema = type.default(fallback);
  settingRegistry.add(schema, meta);
  return schema;
}

/** A setting that may stay unset; `unsetMeans` says what happens then. */
function optional<T extends z.ZodType>(type: T, meta: SettingMeta & { unsetMeans: string }) {
  const schema = type.optional();
  settingRegistry.add(schema, meta);
  return schema;
}


/** A setting a group needs once the group is given at all (no default of its own). */
function needed<T extends z.ZodType>(type: T, meta: SettingMeta & { unsetMeans: string }) {
  settingRegistry.add(type, meta);
  return type;
}

const seconds = (max: number) => z.number().int().positive().max(max);
const count = () => z.number().int().positive();
const kilobytes = () => z.number().int().min(1).max(10_240);

/** Each group is `prefault({})`: absent from the input, it still gets every default. */
export const configSchema = z
  .object({
    port: setting(z.number().int().min(0).max(65535), 3000, { env: 'PORT', parse: 'integer', description: 'HTTP port.' }),
    host: optional(
      z.string().refine((h) => isIP(h) !== 0 || /^[a-z0-9.-]+$/i.test(h), 'must be an IP address or a host name'),
      { env: 'HOST', parse: 'text', unsetMeans: 'every interface', description: 'Address to listen on (e.g. `127.0.0.1` behind a local reverse proxy, `::` for IPv6 and IPv4).' },
    ),
    issuer: setting(
      z
        .url({ protocol: /^https?$/ })
        .refine((u) => !u.endsWith('/'), 'must not end with a slash')
        .refine((u) => !URL.parse(u)?.search && !URL.parse(u)?.hash, 'must have no query or fragment'),
      'http://localhost:3000',
      { env: 'ISSUER', parse: 'text', description: 'The issuer identifier: the public base URL, no trailing slash. Curfew itself speaks plain HTTP: an `https` issuer means TLS ends at a proxy in front of it, and every cookie is then sent `Secure`, whatever the proxy\'s headers say.' },
    ),
    workers: setting(z.union([z.number().int().min(1).max(256), z.literal('auto')]), 1, {
      env: 'CURFEW_WORKERS',
      parse: 'workers',
      description: 'Processes serving on this host (`node:cluster`): a number, or `auto` (one per core, `os.availableParallelism()`). `1` runs no cluster. More than one needs `REDIS_URL`. See [Operations](#operations).',
    }),
    logLevel: setting(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']), 'info', { env: 'LOG_LEVEL', parse: 'text', description: 'pino level.' }),
    trustProxy: setting(z.boolean(), false, { env: 'CURFEW_TRUST_PROXY', parse: 'boolean', description: 'Trust `X-Forwarded-*` (set behind a reverse proxy, so rate limits see client IPs).' }),
    trustProxyHops: setting(z.number().int().min(1).max(16), 1, {
      env: 'CURFEW_TRUST_PROXY_HOPS',
      parse: 'integer',
      description: 'With `CURFEW_TRUST_PROXY`: how many proxies in front of Curfew append to `X-Forwarded-For`. The client IP is the entry that many from the right; anything further left was written by the client and is ignored (so a forged office address gets no network rule and no fresh per-IP sign-in budget). Set it to the exact number of your proxies (a CDN plus a load balancer is 2).',
    }),
    redis: z.object({
      url: optional(z.string().regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL'), {
        env: 'REDIS_URL',
        parse: 'text',
        secret: true,
        unsetMeans: 'unset',
        description: 'Redis (`redis://` or `rediss://`). Unset: the in-memory store with the demo seed. Set: every piece of state lives in Redis.',
      }),
      prefix: setting(z.string().min(1).max(64), 'curfew:', { env: 'CURFEW_REDIS_PREFIX', parse: 'text', description: 'Prefix of every Redis key.' }),
      sessionRetainSeconds: setting(z.number().int().min(60).max(31 * 86_400), 86_400, {
        env: 'CURFEW_REDIS_SESSION_RETAIN_SECONDS',
        parse: 'integer',
        description: 'How long an SSO session\'s record stays in Redis after its absolute deadline, so whoever ends it — a request, or the sweeper back from an outage — still sees what it was and whom to notify. Longer than any outage you expect the sweeper to recover from.',
      }),
      // Given as a group or not at all: the sentinels without the primary's name find nothing.
      sentinel: z.object({
        hosts: needed(z.array(z.string().regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}$/i, 'each sentinel must be host:port')).min(1), {
          env: 'CURFEW_REDIS_SENTINELS',
          parse: 'list',
          unsetMeans: 'unset (no Sentinel)',
          description: 'Redis Sentinel: the sentinels, `host:port,host:port` (`[v6]:port` too). Curfew asks them for the primary and follows every failover. `REDIS_URL` is still required: it turns Redis on and gives the data nodes\' password, database and TLS (`rediss://`); its host and port are not used. See [Redis: persistence, Sentinel, Cluster](#redis-persistence-sentinel-cluster).',
        }),
        name: needed(z.string().min(1), {
          env: 'CURFEW_REDIS_SENTINEL_NAME',
          parse: 'text',
          unsetMeans: 'required with Sentinel',
          description: 'The primary\'s name in the sentinels\' `sentinel monitor` line.',
        }),
        password: optional(z.string().min(1), {
          env: 'CURFEW_REDIS_SENTINEL_PASSWORD',
          parse: 'text',
          secret: true,
          unsetMeans: 'unset',
          description: 'The sentinels\' own password (their `requirepass`), if they have one.',
        }),
      }).optional(),
      cluster: optional(z.array(z.string().regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}$/i, 'each cluster node must be host:port')).min(1), {
        env: 'CURFEW_REDIS_CLUSTER',
        parse: 'list',
        unsetMeans: 'unset (no Cluster)',
        description: 'Redis Cluster: seed nodes, `host:port,host:port` (`[v6]:port` too); Curfew learns the rest of the cluster from them and follows its failovers and resharding. `REDIS_URL` is still required: it turns Redis on and gives the nodes\' password and TLS (`rediss://`); its host and port are not used, and its database must be 0. Not with Sentinel. See [Redis: persistence, Sentinel, Cluster](#redis-persistence-sentinel-cluster).',
      }),
      clusterShards: setting(z.number().int().min(1).max(1024), 16, {
        env: 'CURFEW_REDIS_SHARDS',
        parse: 'integer',
        description: 'Redis Cluster only: how many shards sessions and their queues are split into (hash tags `{s0}`…), which the cluster spreads over its primaries. More shards spread load over more primaries; each claim reads every shard. Fixed for a deployment\'s life: changing it strands existing sessions and queued logout tokens.',
      }),
    }).prefault({}),
    seedFile: optional(z.string().min(1), { env: 'CURFEW_SEED', parse: 'text', unsetMeans: 'unset', description: 'A seed file of orgs, users and clients, applied at start (idempotent).' }),
    secrets: z.object({
      identifierKey: optional(z.string().min(32, 'must be at least 32 characters'), {
        env: 'CURFEW_IDENTIFIER_KEY',
        parse: 'text',
        secret: true,
        unsetMeans: 'generated',
        description: 'Key of the HMAC that hides session and token ids in store keys.',
      }),
      cookieKeys: optional(z.array(z.string().min(32, 'each key must be at least 32 characters')).min(1), {
        env: 'CURFEW_COOKIE_KEYS',
        parse: 'list',
        secret: true,
        unsetMeans: 'generated',
        description: 'Cookie signing keys, comma-separated, newest first (rotation).',
      }),
      jwks: optional(z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }), {
        env: 'CURFEW_JWKS',
        parse: 'json',
        secret: true,
        unsetMeans: 'generated',
        description: 'Private signing JWKS (JSON) with an RS256 and an ES256 key.',
      }),
      totpKeys: optional(z.array(z.string().regex(/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/_=-]{43,44}$/, 'each key must be kid:base64 of 32 bytes')).min(1), {
        env: 'CURFEW_TOTP_KEYS',
        parse: 'list',
        secret: true,
        unsetMeans: 'generated',
        description: 'AES-256-GCM keys for TOTP secrets at rest, `kid:base64` (32 bytes), comma-separated, newest first.',
      }),
    }).prefault({}),
    tokens: z.object({
      accessTokenSeconds: setting(seconds(86400), 600, { env: 'CURFEW_ACCESS_TOKEN_SECONDS', parse: 'integer', description: 'Access token lifetime; further capped by the RP session\'s deadlines.' }),
      idTokenSeconds: setting(seconds(86400), 600, { env: 'CURFEW_ID_TOKEN_SECONDS', parse: 'integer', description: 'ID token lifetime.' }),
      refreshTokenSeconds: setting(seconds(31 * 86400), 1_209_600, { env: 'CURFEW_REFRESH_TOKEN_SECONDS', parse: 'integer', description: 'Refresh token lifetime; the session\'s limits end it sooner.' }),
      authorizationCodeSeconds: setting(seconds(600), 60, { env: 'CURFEW_AUTHORIZATION_CODE_SECONDS', parse: 'integer', description: 'Authorization code lifetime.' }),
      clientCredentialsSeconds: setting(seconds(86400), 600, { env: 'CURFEW_CLIENT_CREDENTIALS_SECONDS', parse: 'integer', description: 'Lifetime of a client-credentials access token (the admin API\'s).' }),
      interactionSeconds: setting(seconds(3600), 600, { env: 'CURFEW_INTERACTION_SECONDS', parse: 'integer', description: 'How long a sign-in page may be left open before it must restart.' }),
      sessionSeconds: setting(seconds(31 * 86400), 2_678_400, { env: 'CURFEW_SESSION_SECONDS', parse: 'integer', description: 'Upper bound of a browser session record; policy limits end sessions sooner.' }),
    }).prefault({}),
    login: z.object({
      accountFailures: setting(count(), 5, { env: 'CURFEW_LOGIN_ACCOUNT_FAILURES', parse: 'integer', description: 'Failed sign-ins per account within the window before it is blocked.' }),
      accountWindowSeconds: setting(seconds(86400), 900, { env: 'CURFEW_LOGIN_ACCOUNT_WINDOW_SECONDS', parse: 'integer', description: 'The window those account failures are counted in.' }),
      accountBlockSeconds: setting(seconds(86400), 900, { env: 'CURFEW_LOGIN_ACCOUNT_BLOCK_SECONDS', parse: 'integer', description: 'How long a blocked account stays blocked.' }),
      ipFailures: setting(count(), 30, { env: 'CURFEW_LOGIN_IP_FAILURES', parse: 'integer', description: 'Failed sign-ins per source IP within the window before it is blocked.' }),
      ipWindowSeconds: setting(seconds(86400), 900, { env: 'CURFEW_LOGIN_IP_WINDOW_SECONDS', parse: 'integer', description: 'The window those IP failures are counted in.' }),
      ipBlockSeconds: setting(seconds(86400), 900, { env: 'CURFEW_LOGIN_IP_BLOCK_SECONDS', parse: 'integer', description: 'How long a blocked source IP stays blocked.' }),
    }).prefault({}),
    mfa: z.object({
      lockoutFailures: setting(count(), 5, { env: 'CURFEW_TOTP_LOCKOUT_FAILURES', parse: 'integer', description: 'Wrong TOTP codes before the account\'s TOTP is locked.' }),
      lockoutSeconds: setting(seconds(86400), 900, { env: 'CURFEW_TOTP_LOCKOUT_SECONDS', parse: 'integer', description: 'How long a TOTP lock lasts.' }),
      issuerLabel: setting(z.string().min(1).max(64), 'Curfew', { env: 'CURFEW_TOTP_ISSUER_LABEL', parse: 'text', description: 'Issuer name shown in authenticator apps.' }),
    }).prefault({}),
    sweeper: z.object({
      tickMs: setting(z.number().int().min(10).max(60_000), 250, { env: 'CURFEW_SWEEPER_TICK_MS', parse: 'integer', description: 'The longest an instance sleeps between looks for sessions past a deadline: it wakes at the next deadline it knows of, and looks this often for those other instances wrote since.' }),
      batch: setting(count().max(10_000), 500, { env: 'CURFEW_SWEEPER_BATCH', parse: 'integer', description: 'Sessions claimed per look.' }),
      leaseMs: setting(count(), 30_000, { env: 'CURFEW_SWEEPER_LEASE_MS', parse: 'integer', description: 'How long a claimed session is hidden from other sweepers.' }),
    }).prefault({}),
    backchannel: z.object({
      maxAttempts: setting(z.number().int().min(1).max(50), 10, { env: 'CURFEW_BACKCHANNEL_MAX_ATTEMPTS', parse: 'integer', description: 'Delivery attempts before a logout token is dead-lettered.' }),
      baseDelayMs: setting(count(), 1000, { env: 'CURFEW_BACKCHANNEL_BASE_DELAY_MS', parse: 'integer', description: 'First retry delay; doubles per attempt, with jitter.' }),
      maxDelayMs: setting(count(), 300_000, { env: 'CURFEW_BACKCHANNEL_MAX_DELAY_MS', parse: 'integer', description: 'Longest retry delay.' }),
      timeoutMs: setting(count().max(60_000), 5000, { env: 'CURFEW_BACKCHANNEL_TIMEOUT_MS', parse: 'integer', description: 'Per-attempt HTTP timeout.' }),
      concurrencyPerClient: setting(count().max(256), 8, { env: 'CURFEW_BACKCHANNEL_CONCURRENCY', parse: 'integer', description: 'Open connections per RP origin.' }),
      batch: setting(count().max(10_000), 200, { env: 'CURFEW_BACKCHANNEL_BATCH', parse: 'integer', description: 'Deliveries claimed per look.' }),
      tickMs: setting(z.number().int().min(10).max(60_000), 200, { env: 'CURFEW_BACKCHANNEL_TICK_MS', parse: 'integer', description: 'How often an idle worker looks for due deliveries (retries, and tokens other instances queued); tokens its own instance queues are taken at once.' }),
      leaseMs: setting(count(), 30_000, { env: 'CURFEW_BACKCHANNEL_LEASE_MS', parse: 'integer', description: 'After this, a claimed delivery no instance finished is claimable again.' }),
      logoutTokenSeconds: setting(seconds(3600), 120, {
        env: 'CURFEW_LOGOUT_TOKEN_SECONDS',
        parse: 'integer',
        description: 'How long a logout token is valid (`exp` − `iat`); each attempt signs a fresh one. 120, as oidc-provider\'s own.',
      }),
      signingThreads: setting(z.union([z.number().int().min(0).max(64), z.literal('auto')]), 0, {
        env: 'CURFEW_SIGNING_THREADS',
        parse: 'workers',
        description: 'Worker threads that sign and POST logout tokens beside the event loop: a number, `auto` (one per core, `os.availableParallelism()`), or `0` (the event loop POSTs; signing runs on libuv\'s thread pool either way). Threads take about a third off the event loop\'s CPU in a wave of ends but add about a tenth to the process\'s: worth it where cores are spare and the event loop is the limit, not on a host whose cores Redis and other work already fill (see [Benchmarks](#benchmarks)). Per process: with `CURFEW_WORKERS` > 1 each worker has its own.',
      }),
      allowlist: setting(z.array(z.string().regex(/^https?:\/\/[^/]+$/, 'must be an origin such as http://127.0.0.1:8090 (port may be *)')), [], {
        env: 'CURFEW_BACKCHANNEL_ALLOWLIST',
        parse: 'list',
        description: 'Origins (`http://127.0.0.1:8090`, port may be `*`) allowed to receive logout tokens over http or on loopback/private addresses.',
      }),
    }).prefault({}),
    activity: z.object({
      reportsPerMinute: setting(z.number().int().min(1).max(10_000), 60, {
        env: 'CURFEW_ACTIVITY_REPORTS_PER_MINUTE',
        parse: 'integer',
        description: 'Activity reports (`POST /session/activity`) one RP session may make per minute; more get `429` and count nothing. Generous for a person (an SDK reports at most every few seconds), tight for a loop.',
      }),
    }).prefault({}),
    bodyLimits: z.object({
      adminApiKb: setting(kilobytes(), 64, { env: 'CURFEW_ADMIN_API_BODY_KB', parse: 'integer', description: 'Largest JSON body the admin API reads (a policy with many rules); larger is `413`.' }),
      sessionApiKb: setting(kilobytes(), 8, { env: 'CURFEW_SESSION_API_BODY_KB', parse: 'integer', description: 'Largest body `/session/status` and `/session/activity` read; larger is `413`.' }),
      signInFormKb: setting(kilobytes(), 16, { env: 'CURFEW_SIGN_IN_FORM_BODY_KB', parse: 'integer', description: 'Largest form the sign-in pages (password, TOTP, enrollment, consent) read; larger is `413`.' }),
      consoleFormKb: setting(kilobytes(), 64, { env: 'CURFEW_CONSOLE_FORM_BODY_KB', parse: 'integer', description: 'Largest form the admin console reads (a policy form with many rules); larger is `413`.' }),
      accountFormKb: setting(kilobytes(), 4, { env: 'CURFEW_ACCOUNT_FORM_BODY_KB', parse: 'integer', description: 'Largest form the account page reads (sign out); larger is `413`.' }),
    }).prefault({}),
    compliance: z.object({
      controlTestIntervalMinutes: setting(z.number().int().min(0).max(44_640), 0, {
        env: 'CURFEW_CONTROL_TEST_INTERVAL_MINUTES',
        parse: 'integer',
        description: 'Run every org\'s compliance control test this often (e.g. `1440`: daily), on one instance at a time; `0`: only on demand. See [Compliance evidence](#compliance-evidence).',
      }),
      controlTestAnnounceSeconds: setting(z.number().int().min(1).max(3600), 120, {
        env: 'CURFEW_CONTROL_TEST_ANNOUNCE_SECONDS',
        parse: 'integer',
        description: 'How long after its deadline the control test waits for its logout token before it fails.',
      }),
    }).prefault({}),
    testing: z.object({
      pinnableClock: setting(z.boolean(), false, { env: 'CURFEW_TEST_PINNABLE_CLOCK', parse: 'boolean', description: 'Tests only: let a test pin the shared Redis clock. Never in production.' }),
      workerHeader: setting(z.boolean(), false, { env: 'CURFEW_TEST_WORKER_HEADER', parse: 'boolean', description: 'Tests only: answer every request with `X-Curfew-Worker-Pid`, to see which worker served it.' }),
    }).prefault({}),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;

export interface SettingEntry extends SettingMeta {
  /** Dotted path in `Config`, e.g. `backchannel.maxAttempts`. */
  path: string;
  /** The default as the schema gives it; `undefined` for a setting that may stay unset. */
  fallback: unknown;
}

/** Every leaf setting in declaration order: what the loader reads and the README lists. */
export function listSettings(schema: z.core.$ZodType = configSchema, prefix = ''): SettingEntry[] {
  const shape = objectShape(schema);
  if (!shape) return [];
  return Object.entries(shape).flatMap(([key, child]) => {
    const path = prefix + key;
    const meta = settingRegistry.get(child);
    if (meta) return [{ path, ...meta, fallback: child instanceof z.ZodDefault ? child.def.defaultValue : undefined }];
    return listSettings(child, `${path}.`);
  });
}

function objectShape(schema: z.core.$ZodType): Record<string, z.core.$ZodType> | undefined {
  if (schema instanceof z.ZodObject) return schema.shape;
  if (schema instanceof z.ZodPrefault || schema instanceof z.ZodDefault || schema instanceof z.ZodOptional) return objectShape(schema.unwrap());
  return undefined;
}
