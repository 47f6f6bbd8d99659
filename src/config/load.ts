import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { configSchema, listSettings, type Config, type EnvParser } from './settings.ts';

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

const isRaw = (value: unknown): value is Raw => typeof value === 'object' && value !== null && !Array.isArray(value);

const integer = (v: string): unknown => (/^-?\d+$/.test(v.trim()) ? Number(v) : v);

/** Environment text → a value for the schema; text it cannot read passes through for the schema to name. */
const PARSERS: Record<EnvParser, (value: string) => unknown> = {
  integer,
  boolean: (v) => (/^(1|true|yes)$/i.test(v) ? true : /^(0|false|no)$/i.test(v) ? false : v),
  list: (v) => v.split(',').map((s) => s.trim()).filter(Boolean),
  json: (v) => {
    try {
      return JSON.parse(v);
    } catch {
      return v;
    }
  },
  text: (v) => v,
  workers: (v) => (v.trim().toLowerCase() === 'auto' ? 'auto' : integer(v)),
};

const SETTINGS = listSettings();

/** Environment variable → config path, from settings.ts. */
export const ENVIRONMENT: ReadonlyArray<readonly [variable: string, path: string, parse: EnvParser]> = SETTINGS.map((s) => [s.env, s.path, s.parse] as const);

/**
 * Settings that hold secrets. Each may instead be given as `<VARIABLE>_FILE`, the path of a file
 * holding the value (Docker and Kubernetes secrets), so it need not sit in the environment.
 */
export const SECRET_VARIABLES: readonly string[] = SETTINGS.filter((s) => s.secret).map((s) => s.env);

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
  const file = SECRET_VARIABLES.includes(variable) ? env[`${variable}_FILE`] || undefined : undefined;
  if (direct !== undefined && file !== undefined) {
    problems.push(`${variable} and ${variable}_FILE are both set: set one`);
    return undefined;
  }
  if (file === undefined) return direct;
  try {
    return readFileSync(file, 'utf8').replace(/\r?\n$/, '');
  } catch (cause) {
    const reason = cause instanceof Error ? ('code' in cause && typeof cause.code === 'string' ? cause.code : cause.message) : String(cause);
    problems.push(`${variable}_FILE: cannot read ${file}: ${reason}`);
    return undefined;
  }
}

function setPath(target: Raw, path: string, value: unknown): void {
  const parts = path.split('.');
  const leaf = parts.pop() ?? path;
  let node = target;
  for (const part of parts) {
    const next = node[part];
    node = isRaw(next) ? next : (node[part] = {});
  }
  node[leaf] = value;
}

function getPath(source: Raw, path: string): unknown {
  let node: unknown = source;
  for (const part of path.split('.')) node = isRaw(node) ? node[part] : undefined;
  return node;
}

function describeIssue(issue: z.core.$ZodIssue): string {
  const path = issue.path.join('.') || '(root)';
  const variable = ENVIRONMENT.find(([, p]) => p === issue.path.slice(0, p.split('.').length).join('.'))?.[0];
  return `${path}${variable ? ` (${variable})` : ''}: ${issue.message}`;
}

/**
 * Defaults from settings.ts, overridden by the environment, then by `overrides` (dotted paths;
 * tests), validated whole.
 * Empty environment values count as unset. `NODE_ENV=production` with Redis requires every
 * key from the environment or a file.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Raw = {}): Config {
  const raw: Raw = {};
  const problems: string[] = [];
  for (const [variable, path, parse] of ENVIRONMENT) {
    const value = readVariable(env, variable, problems);
    if (value !== undefined && value !== '') setPath(raw, path, PARSERS[parse](value));
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
  // As with Sentinel: REDIS_URL turns Redis on and carries the nodes' password and TLS.
  if (getPath(raw, 'redis.cluster') !== undefined && getPath(raw, 'redis.url') === undefined) {
    problems.push(`redis.cluster (CURFEW_REDIS_CLUSTER): needs REDIS_URL too, e.g. redis://:password@any-node:6379 (with a cluster its host and port are not used: the seed nodes are)`);
  }
  if (getPath(raw, 'redis.cluster') !== undefined && getPath(raw, 'redis.sentinel') !== undefined) {
    problems.push(`redis.cluster (CURFEW_REDIS_CLUSTER) and redis.sentinel (CURFEW_REDIS_SENTINELS): one or the other; a Redis Cluster fails over by itself`);
  }
  if (problems.length || !result.success) throw new ConfigError(problems);
  return result.data;
}
