import { isIP } from 'node:net';
import { z } from 'zod';

const seconds = (max: number) => z.number().int().positive().max(max);

/**
 * Every setting Curfew reads, with its meaning. Defaults live in `config/default.json`;
 * environment variables (see `ENVIRONMENT` in `load.ts`) override them.
 */
export const configSchema = z
  .object({
    port: z.number().int().min(0).max(65535).describe('HTTP port (PORT).'),
    host: z
      .string()
      .refine((h) => isIP(h) !== 0 || /^[a-z0-9.-]+$/i.test(h), 'must be an IP address or a host name')
      .optional()
      .describe('Address to listen on, e.g. 127.0.0.1 behind a local proxy (HOST); unset: every interface.'),
    issuer: z
      .url({ protocol: /^https?$/ })
      .refine((u) => !u.endsWith('/'), 'must not end with a slash')
      .refine((u) => !URL.parse(u)?.search && !URL.parse(u)?.hash, 'must have no query or fragment')
      .describe('OIDC issuer identifier, the public base URL (ISSUER).'),
    workers: z
      .union([z.number().int().min(1).max(256), z.literal('auto')])
      .describe('Processes serving on this host, one per core (CURFEW_WORKERS): a number, or auto = os.availableParallelism(); 1 runs no cluster. More than 1 needs REDIS_URL.'),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).describe('pino level (LOG_LEVEL).'),
    trustProxy: z.boolean().describe('Trust X-Forwarded-* from a reverse proxy (CURFEW_TRUST_PROXY).'),
    trustProxyHops: z
      .number()
      .int()
      .min(1)
      .max(16)
      .describe('With CURFEW_TRUST_PROXY: how many proxies in front of Curfew append to X-Forwarded-For; the client IP is the entry that many from the right, never a leftmost one a client wrote (CURFEW_TRUST_PROXY_HOPS).'),
    redis: z.object({
      url: z
        .string()
        .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
        .optional()
        .describe('Redis URL; unset runs on the in-memory store with the demo seed (REDIS_URL).'),
      prefix: z.string().min(1).max(64).describe('Prefix of every Redis key (CURFEW_REDIS_PREFIX).'),
      sentinel: z
        .object({
          hosts: z
            .array(z.string().regex(/^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):\d{1,5}$/i, 'each sentinel must be host:port'))
            .min(1)
            .describe('Sentinels to ask for the primary, host:port,host:port (CURFEW_REDIS_SENTINELS); REDIS_URL then gives only credentials, database and TLS.'),
          name: z.string().min(1).describe('The primary\'s name in the sentinels\' `sentinel monitor` line (CURFEW_REDIS_SENTINEL_NAME).'),
          password: z.string().min(1).optional().describe('The sentinels\' own password, if they have one (CURFEW_REDIS_SENTINEL_PASSWORD).'),
        })
        .optional()
        .describe('Redis Sentinel: follow the primary through failovers.'),
    }),
    seedFile: z.string().min(1).optional().describe('Seed file of orgs, users and clients applied at start (CURFEW_SEED).'),
    secrets: z
      .object({
        identifierKey: z
          .string()
          .min(32, 'must be at least 32 characters')
          .optional()
          .describe('Key of the keyed hash that hides session and token ids in store keys (CURFEW_IDENTIFIER_KEY); generated once and stored if unset.'),
        cookieKeys: z
          .array(z.string().min(32, 'each key must be at least 32 characters'))
          .min(1)
          .optional()
          .describe('Cookie signing keys, newest first (CURFEW_COOKIE_KEYS, comma-separated); generated once and stored if unset.'),
        totpKeys: z
          .array(z.string().regex(/^[A-Za-z0-9_-]{1,32}:[A-Za-z0-9+/_=-]{43,44}$/, 'each key must be kid:base64 of 32 bytes'))
          .min(1)
          .optional()
          .describe('AES-256-GCM keys for TOTP secrets at rest, kid:base64, newest first (CURFEW_TOTP_KEYS); generated once and stored if unset.'),
        jwks: z
          .object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) })
          .optional()
          .describe('Private signing JWKS, RS256 and ES256 (CURFEW_JWKS, JSON); generated once and stored if unset.'),
      })
      .default({}),
    tokens: z.object({
      accessTokenSeconds: seconds(86400).describe('Access token lifetime (further capped by the RP session).'),
      idTokenSeconds: seconds(86400),
      refreshTokenSeconds: seconds(31 * 86400),
      authorizationCodeSeconds: seconds(600),
      clientCredentialsSeconds: seconds(86400),
      interactionSeconds: seconds(3600),
      sessionSeconds: seconds(31 * 86400).describe('Upper bound of a browser session record; policy limits end sessions sooner.'),
    }),
    login: z.object({
      accountFailures: z.number().int().positive().describe('Failed sign-ins per account before it is blocked.'),
      accountWindowSeconds: seconds(86400),
      accountBlockSeconds: seconds(86400),
      ipFailures: z.number().int().positive().describe('Failed sign-ins per source IP before it is blocked.'),
      ipWindowSeconds: seconds(86400),
      ipBlockSeconds: seconds(86400),
    }),
    mfa: z.object({
      lockoutFailures: z.number().int().positive().describe('Wrong TOTP codes before the account\'s TOTP is locked.'),
      lockoutSeconds: seconds(86400).describe('How long a TOTP lock lasts.'),
      issuerLabel: z.string().min(1).max(64).describe('Issuer name shown in authenticator apps.'),
    }),
    testing: z
      .object({
        pinnableClock: z
          .boolean()
          .default(false)
          .describe('Tests only (CURFEW_TEST_PINNABLE_CLOCK): let a test pin the shared Redis clock. Never in production.'),
        workerHeader: z
          .boolean()
          .default(false)
          .describe('Tests only (CURFEW_TEST_WORKER_HEADER): answer every request with X-Curfew-Worker-Pid, to see which worker served it.'),
      })
      .default({ pinnableClock: false, workerHeader: false }),
    sweeper: z.object({
      tickMs: z.number().int().min(10).max(60_000).describe('How often each instance looks for sessions past a deadline.'),
      batch: z.number().int().positive().max(10_000).describe('Sessions claimed per look.'),
      leaseMs: z.number().int().positive().describe('How long a claimed session is hidden from other sweepers.'),
    }),
    backchannel: z.object({
      maxAttempts: z.number().int().min(1).max(50).describe('Delivery attempts before a logout token is dead-lettered.'),
      baseDelayMs: z.number().int().positive().describe('First retry delay; doubles per attempt, with jitter.'),
      maxDelayMs: z.number().int().positive().describe('Longest retry delay.'),
      timeoutMs: z.number().int().positive().max(60_000).describe('Per-attempt HTTP timeout.'),
      concurrencyPerClient: z.number().int().positive().max(256).describe('Open connections per RP origin.'),
      batch: z.number().int().positive().max(10_000).describe('Deliveries claimed per look.'),
      tickMs: z.number().int().min(10).max(60_000).describe('How often an idle worker looks for due deliveries.'),
      leaseMs: z.number().int().positive().describe('After this, a claimed delivery no instance finished is claimable again.'),
      allowlist: z
        .array(
          z.string().regex(/^https?:\/\/[^/]+$/, 'must be an origin such as http://127.0.0.1:8090 (port may be *)'),
        )
        .describe('Origins that may receive logout tokens over http or at loopback/private addresses (CURFEW_BACKCHANNEL_ALLOWLIST).'),
    }),
    compliance: z.object({
      controlTestIntervalMinutes: z.number().int().min(0).max(44_640).describe('Run every org\'s control test (SPEC §13) this often, on one instance at a time; 0 = only on demand.'),
      controlTestAnnounceSeconds: z.number().int().min(1).max(3600).describe('How long after the deadline the control test waits for its logout token before it fails.'),
    }),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
