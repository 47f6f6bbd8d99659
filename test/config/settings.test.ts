import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, SECRET_VARIABLES } from '../../src/config/load.ts';
import { configSchema, listSettings } from '../../src/config/settings.ts';

function problems(env: NodeJS.ProcessEnv): string[] {
  try {
    loadConfig(env);
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  return [];
}

const configSafe = (env: NodeJS.ProcessEnv): boolean => problems(env).length === 0;

const get = (value: unknown, path: string): unknown =>
  path.split('.').reduce<unknown>((node, key) => (typeof node === 'object' && node !== null ? Object.entries(node).find(([k]) => k === key)?.[1] : undefined), value);

describe('settings', () => {
  const settings = listSettings();

  it('gives every setting its own environment variable', () => {
    const variables = settings.map((s) => s.env);
    expect(new Set(variables).size).toBe(variables.length);
    for (const variable of variables) expect(variable).toMatch(/^[A-Z][A-Z0-9_]*$/);
  });

  it('declares a default, or what unset means, for every setting', () => {
    for (const s of settings) expect(s.fallback !== undefined || s.unsetMeans !== undefined, s.path).toBe(true);
  });

  it('loads each default from settings.ts with an empty environment', () => {
    const config = loadConfig({});
    for (const s of settings) expect(get(config, s.path), s.path).toEqual(s.fallback);
  });

  it('reads every number and switch from its variable into its path', () => {
    for (const s of settings.filter((x) => x.parse === 'integer' || x.parse === 'boolean')) {
      // A value other than the default and still valid: one more, or one less for a default at its ceiling.
      const fallback = Number(s.fallback);
      const redis = s.env === 'CURFEW_WORKERS' ? { REDIS_URL: 'redis://127.0.0.1:6379' } : {};
      const value = s.parse === 'boolean' ? !s.fallback : configSafe({ [s.env]: String(fallback + 1), ...redis }) ? fallback + 1 : fallback - 1;
      expect(get(loadConfig({ [s.env]: String(value), ...redis }), s.path), s.env).toBe(value);
    }
  });

  it('names every bad number and switch at once, by path and variable', () => {
    const numeric = settings.filter((s) => s.parse === 'integer' || s.parse === 'boolean');
    const env = Object.fromEntries(numeric.map((s) => [s.env, 'nonsense']));
    const found = problems(env);
    for (const s of numeric) expect(found.some((p) => p.startsWith(`${s.path} (${s.env}):`)), s.env).toBe(true);
  });

  it('lets only secrets be given as _FILE', () => {
    expect(SECRET_VARIABLES).toEqual(['REDIS_URL', 'CURFEW_REDIS_SENTINEL_PASSWORD', 'CURFEW_IDENTIFIER_KEY', 'CURFEW_COOKIE_KEYS', 'CURFEW_JWKS', 'CURFEW_TOTP_KEYS']);
  });

  it('fills the defaults of a group given in part (tests override one setting of a group)', () => {
    const config = loadConfig({}, { sweeper: { tickMs: 50 } });
    expect(config.sweeper).toEqual({ tickMs: 50, batch: 500, leaseMs: 30_000 });
  });

  it('still refuses a setting it does not know', () => {
    expect(configSchema.safeParse({ portt: 3000 }).success).toBe(false);
  });
});
