import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { configSchema, type Config } from './schema.ts';

const DEFAULT_FILE = fileURLToPath(new URL('../../config/default.json', import.meta.url));

/** Thrown when configuration is invalid; the message names every bad setting at once. */
export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}

type Raw = Record<string, unknown>;
type Parser = (value: string) => unknown;

const integer: Parser = (v) => (/^-?\d+$/.test(v.trim()) ? Number(v) : v);
const boolean: Parser = (v) => (/^(1|true|yes)$/i.test(v) ? true : /^(0|false|no)$/i.test(v) ? false : v);
const list: Parser = (v) => v.split(',').map((s) => s.trim()).filter(Boolean);
const json: Parser = (v) => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};
const text: Parser = (v) => v;
const workers: Parser = (v) => (v.trim().toLowerCase() === 'auto' ? 'auto' : integer(v));

/** Environment variable → config path. One table, so the README and the loader agree. */
export const ENVIRONMENT: ReadonlyArray<readonly [variable: string, path: string, parse: Parser]> = [
  ['PORT', 'port', integer],
  ['HOST', 'host', text],
  ['ISSUER', 'issuer', text],
  ['LOG_LEVEL', 'logLevel', text],
  ['CURFEW_WORKERS', 'workers', workers],
  ['REDIS_URL', 'redis.url', text],
  ['CURFEW_REDIS_PREFIX', 'redis.prefix', text],
  ['CURFEW_REDIS_SENTINELS', 'redis.sentinel.hosts', list],
  ['CURFEW_REDIS_SENTINEL_NAME', 'redis.sentinel.name', text],
  ['CURFEW_REDIS_SENTINEL_PASSWORD', 'redis.sentinel.password', text],
  ['CURFEW_SEED', 'seedFile', text],
  ['CURFEW_TRUST_PROXY', 'trustProxy', boolean],
  ['CURFEW_TRUST_PROXY_HOPS', 'trustProxyHops', integer],
  ['CURFEW_IDENTIFIER_KEY', 'secrets.identifierKey', text],
  ['CURFEW_COOKIE_KEYS', 'secrets.cookieKeys', list],
  ['CURFEW_JWKS', 'secrets.jwks', json],
  ['CURFEW_TOTP_KEYS', 'secrets.totpKeys', list],
  ['CURFEW_BACKCHANNEL_ALLOWLIST', 'backchannel.allowlist', list],
  ['CURFEW_CONTROL_TEST_INTERVAL_MINUTES', 'compliance.controlTestIntervalMinutes', integer],
  ['CURFEW_TEST_PINNABLE_CLOCK', 'testing.pinnableClock', boolean],
  ['CURFEW_TEST_WORKER_HEADER', 'testing.workerHeader', boolean],
];

/**
 * Settings that hold secrets. Each may instead be given as `<VARIABLE>_FILE`, the path of a file
 * holding the value (Docker and Kubernetes secrets), so it need not sit in the environment.
 */
export const SECRET_VARIABLES = ['REDIS_URL', 'CURFEW_REDIS_SENTINEL_PASSWORD', 'CURFEW_IDENTIFIER_KEY', 'CURFEW_COOKIE_KEYS', 'CURFEW_JWKS', 'CURFEW_TOTP_KEYS'] as const;

/**
 * Key material that, unless given, is generated once and kept in the store. In production with
 * Redis that would put each key in Redis next to what it protects (the TOTP key next to the
 * encrypted TOTP secrets, the signing keys next to the tokens): there, all must be given.
 */
const PRODUCTION_KEYS = [
  ['CURFEW_IDENTIFIER_KEY', 'secrets.identifierKey'],
  ['CURFEW_COOKIE_KEYS', 'secrets.cookieKeys'],
  ['CURFEW_JWKS', 'secrets.jwks'],
  ['CURFEW_TOTP_KEYS', 'secrets.totpKeys'],
] as const;

/** The value of a variable, or of the file its `_FILE` twin names (one trailing newline trimmed). */
function readVariable(env: NodeJS.ProcessEnv, variable: string, problems: string[]): string | undefined {
  const direct = env[variable] || undefined;
  const file = (SECRET_VARIABLES as readonly string[]).includes(variable) ? env[`${variable}_FILE`] || undefined : undefined;
  if (direct !== undefined && file !== undefined) {
    problems.push(`${variable} and ${variable}_FILE are both set: set one`);
    return undefined;
  }
  if (file === undefined) return direct;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (cause) {
    problems.push(`${variable}_FILE: cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`);
    return undefined;
  }
}

function setPath(target: Raw, path: string, value: unknown): void {
  const parts = path.split('.');
  let node = target;
  for (const part of parts.slice(0, -1)) {
    const next = node[part];
    node = typeof next === 'object' && next !== null ? (next as Raw) : (node[part] = {});
  }
  node[parts.at(-1)!] = value;
}

function getPath(source: Raw, path: string): unknown {
  let node: unknown = source;
  for (const part of path.split('.')) node = typeof node === 'object' && node !== null ? (node as Raw)[part] : undefined;
  return node;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.join('.') || '(root)';
  const variable = ENVIRONMENT.find(([, p]) => p === issue.path.slice(0, p.split('.').length).join('.'))?.[0];
  return `${path}${variable ? ` (${variable})` : ''}: ${issue.message}`;
}

/**
 * Defaults from `config/default.json`, overridden by the environment, validated whole.
 * Empty environment values count as unset. `NODE_ENV=production` with Redis requires every
 * key from the environment or a file.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Raw = {}): Config {
  const raw = JSON.parse(readFileSync(DEFAULT_FILE, 'utf8')) as Raw;
  const problems: string[] = [];
  for (const [variable, path, parse] of ENVIRONMENT) {
    const value = readVariable(env, variable, problems);
    if (value !== undefined && value !== '') setPath(raw, path, parse(value));
  }
  for (const [path, value] of Object.entries(overrides)) setPath(raw, path, value);

  const result = configSchema.safeParse(raw);
  if (!result.success) problems.push(...result.error.issues.map(describeIssue));
  if (env.NODE_ENV === 'production' && getPath(raw, 'redis.url') !== undefined) {
    for (const [variable, path] of PRODUCTION_KEYS) {
      if (getPath(raw, path) === undefined) {
        problems.push(`${variable} (or ${variable}_FILE): required in production (NODE_ENV=production with REDIS_URL); a generated key would be stored in Redis next to what it protects`);
      }
    }
  }
  // Each worker would have its own in-memory store: a session signed in on one unknown to the next.
  const workerCount = getPath(raw, 'workers');
  if (workerCount !== undefined && workerCount !== 1 && getPath(raw, 'redis.url') === undefined) {
    problems.push(`workers (CURFEW_WORKERS): more than one worker needs REDIS_URL; the in-memory store is per process, so workers would not share sessions`);
  }
  // REDIS_URL is what turns Redis on, and with Sentinel it still carries the data nodes' password and database.
  if (getPath(raw, 'redis.sentinel') !== undefined && getPath(raw, 'redis.url') === undefined) {
    problems.push(`redis.sentinel (CURFEW_REDIS_SENTINELS): needs REDIS_URL too, e.g. redis://:password@primary/0 (with Sentinel its host and port are not used: the sentinels name the primary)`);
  }
  if (problems.length || !result.success) throw new ConfigError(problems);
  return result.data;
}
