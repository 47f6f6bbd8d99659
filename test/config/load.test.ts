import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { generateJwks } from '../../src/oidc/keys.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../support/redis.ts';
import { runMain } from '../support/process.ts';
import { Redis } from 'ioredis';
import { ConfigError, loadConfig } from '../../src/config/load.ts';

describe('configuration', () => {
  it('runs on the defaults with an empty environment', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ port: 3000, issuer: 'http://localhost:3000', logLevel: 'info' });
    expect(config.redis.url).toBeUndefined();
    expect(config.backchannel.allowlist).toEqual([]);
  });

  it('takes overrides from the environment', () => {
    const config = loadConfig({
      PORT: '8080',
      ISSUER: 'https://id.example.com',
      REDIS_URL: 'redis://10.0.0.5:6380/2',
      LOG_LEVEL: 'warn',
      CURFEW_BACKCHANNEL_ALLOWLIST: 'http://127.0.0.1:8090, http://localhost:*',
      CURFEW_TRUST_PROXY: 'true',
      CURFEW_COOKIE_KEYS: `${'a'.repeat(32)},${'b'.repeat(32)}`,
    });
    expect(config.port).toBe(8080);
    expect(config.issuer).toBe('https://id.example.com');
    expect(config.redis.url).toBe('redis://10.0.0.5:6380/2');
    expect(config.backchannel.allowlist).toEqual(['http://127.0.0.1:8090', 'http://localhost:*']);
    expect(config.trustProxy).toBe(true);
    expect(config.secrets.cookieKeys).toHaveLength(2);
  });

  it('names every bad setting in one error', () => {
    let error: unknown;
    try {
      loadConfig({
        PORT: 'eighty',
        ISSUER: 'https://id.example.com/',
        REDIS_URL: 'http://not-redis',
        LOG_LEVEL: 'loud',
        CURFEW_BACKCHANNEL_ALLOWLIST: 'not an origin',
        CURFEW_COOKIE_KEYS: 'short',
        CURFEW_JWKS: '{broken',
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as ConfigError).message;
    for (const variable of ['PORT', 'ISSUER', 'REDIS_URL', 'LOG_LEVEL', 'CURFEW_BACKCHANNEL_ALLOWLIST', 'CURFEW_COOKIE_KEYS', 'CURFEW_JWKS']) {
      expect(message, variable).toContain(`(${variable})`);
    }
    expect((error as ConfigError).problems.length).toBeGreaterThanOrEqual(7);
  });

  it('binds to HOST when set, and names a HOST that is no address', () => {
    expect(loadConfig({}).host).toBeUndefined();
    expect(loadConfig({ HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    expect(loadConfig({ HOST: '::' }).host).toBe('::');
    expect(() => loadConfig({ HOST: 'not a host/' })).toThrow(/host \(HOST\)/);
  });

  it('treats an empty variable as unset', () => {
    expect(loadConfig({ PORT: '', REDIS_URL: '' }).port).toBe(3000);
  });
});

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('no ConfigError');
}

const KEYS = {
  CURFEW_IDENTIFIER_KEY: 'i'.repeat(40),
  CURFEW_COOKIE_KEYS: `${'c'.repeat(40)},${'d'.repeat(40)}`,
  CURFEW_JWKS: JSON.stringify(generateJwks()),
  CURFEW_TOTP_KEYS: `k1:${Buffer.alloc(32, 7).toString('base64url')}`,
};

describe('key material in production', () => {
  const production = { NODE_ENV: 'production', REDIS_URL: 'redis://10.0.0.5:6379' };

  it('refuses to start with Redis and any key missing, naming every missing setting in one message', () => {
    const error = configError(() => loadConfig({ ...production, CURFEW_COOKIE_KEYS: KEYS.CURFEW_COOKIE_KEYS, PORT: 'eighty' }));
    for (const variable of ['CURFEW_IDENTIFIER_KEY', 'CURFEW_JWKS', 'CURFEW_TOTP_KEYS']) {
      expect(error.message, variable).toContain(`${variable} (or ${variable}_FILE): required in production`);
    }
    expect(error.message).not.toContain('CURFEW_COOKIE_KEYS (or');
    // Other bad settings are in the same message.
    expect(error.message).toContain('(PORT)');
  });

  it('starts with every key from the environment', () => {
    const config = loadConfig({ ...production, ...KEYS });
    expect(config.secrets.identifierKey).toBe(KEYS.CURFEW_IDENTIFIER_KEY);
    expect(config.secrets.cookieKeys).toHaveLength(2);
    expect(config.secrets.totpKeys).toEqual([KEYS.CURFEW_TOTP_KEYS]);
  });

  it('keeps generated keys for the embedded default and outside production', () => {
    expect(loadConfig({ NODE_ENV: 'production' }).secrets).toEqual({});
    expect(loadConfig({ REDIS_URL: production.REDIS_URL }).secrets).toEqual({});
  });

  it('reads every secret setting from a _FILE (Docker/Kubernetes secrets), trailing newline trimmed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'curfew-secrets-'));
    const files: Record<string, string> = {};
    for (const [variable, value] of Object.entries({ ...KEYS, REDIS_URL: 'redis://:s3cret@10.0.0.5:6379' })) {
      const file = join(dir, variable.toLowerCase());
      writeFileSync(file, `${value}\n`);
      files[`${variable}_FILE`] = file;
    }
    const config = loadConfig({ NODE_ENV: 'production', ...files });
    expect(config.redis.url).toBe('redis://:s3cret@10.0.0.5:6379');
    expect(config.secrets.identifierKey).toBe(KEYS.CURFEW_IDENTIFIER_KEY);
    expect(config.secrets.cookieKeys).toEqual(KEYS.CURFEW_COOKIE_KEYS.split(','));
    expect(config.secrets.jwks).toEqual(JSON.parse(KEYS.CURFEW_JWKS));
    expect(config.secrets.totpKeys).toEqual([KEYS.CURFEW_TOTP_KEYS]);
  });

  it('names a _FILE it cannot read, and a setting given both ways', () => {
    const error = configError(() =>
      loadConfig({ CURFEW_TOTP_KEYS_FILE: '/nonexistent/totp', CURFEW_JWKS: KEYS.CURFEW_JWKS, CURFEW_JWKS_FILE: '/nonexistent/jwks' }),
    );
    expect(error.problems).toEqual(expect.arrayContaining([
      expect.stringMatching(/^CURFEW_TOTP_KEYS_FILE: cannot read \/nonexistent\/totp: ENOENT/),
      'CURFEW_JWKS and CURFEW_JWKS_FILE are both set: set one',
    ]));
  });

  it('npm start refuses before writing anything to Redis', async () => {
    const prefix = freshPrefix('prod');
    try {
      const { code, output } = await runMain({ NODE_ENV: 'production', REDIS_URL, CURFEW_REDIS_PREFIX: prefix, PORT: '0' });
      expect(code).toBe(1);
      for (const variable of ['CURFEW_IDENTIFIER_KEY', 'CURFEW_COOKIE_KEYS', 'CURFEW_JWKS', 'CURFEW_TOTP_KEYS']) expect(output).toContain(variable);
      const redis = new Redis(REDIS_URL);
      try {
        expect((await redis.scan('0', 'MATCH', `${prefix}*`, 'COUNT', 1000))[1]).toEqual([]);
      } finally {
        redis.disconnect();
      }
    } finally {
      await deletePrefix(prefix);
    }
  });
});

describe('Redis Sentinel settings', () => {
  it('reads the sentinels, the primary name and the sentinel password (also from a file)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'curfew-sentinel-config-'));
    const file = join(dir, 'sentinel-password');
    writeFileSync(file, 'sentinel secret\n');
    const config = loadConfig({
      REDIS_URL: 'redis://:data-secret@ignored/2',
      CURFEW_REDIS_SENTINELS: 'sentinel-a:26379, 10.0.0.7:26380,[::1]:26381',
      CURFEW_REDIS_SENTINEL_NAME: 'curfew',
      CURFEW_REDIS_SENTINEL_PASSWORD_FILE: file,
    });
    expect(config.redis.sentinel).toEqual({ hosts: ['sentinel-a:26379', '10.0.0.7:26380', '[::1]:26381'], name: 'curfew', password: 'sentinel secret' });
    expect(loadConfig({ REDIS_URL: 'redis://x' }).redis.sentinel).toBeUndefined();
  });

  it('names a sentinel that is no host:port, a missing primary name, and a missing REDIS_URL', () => {
    const problems = configError(() => loadConfig({ CURFEW_REDIS_SENTINELS: 'sentinel-a, b:26379' })).problems.join('\n');
    expect(problems).toMatch(/redis\.sentinel\.hosts\.0 \(CURFEW_REDIS_SENTINELS\): each sentinel must be host:port/);
    expect(problems).toMatch(/redis\.sentinel\.name \(CURFEW_REDIS_SENTINEL_NAME\)/);
    expect(problems).toMatch(/CURFEW_REDIS_SENTINELS\): needs REDIS_URL/);
  });

  it('reads the cluster\'s seed nodes and shard count', () => {
    const config = loadConfig({ REDIS_URL: 'redis://:pw@node-a:6379', CURFEW_REDIS_CLUSTER: 'node-a:6379, 10.0.0.8:7000,[::1]:7001', CURFEW_REDIS_SHARDS: '32' });
    expect(config.redis.cluster).toEqual(['node-a:6379', '10.0.0.8:7000', '[::1]:7001']);
    expect(config.redis.clusterShards).toBe(32);
    const plain = loadConfig({ REDIS_URL: 'redis://x' });
    expect([plain.redis.cluster, plain.redis.clusterShards]).toEqual([undefined, 16]);
  });

  it('names a cluster node that is no host:port, a missing REDIS_URL, Sentinel beside a cluster, and a shard count out of range', () => {
    const problems = configError(() => loadConfig({ CURFEW_REDIS_CLUSTER: 'node-a, b:7000', CURFEW_REDIS_SENTINELS: 's:26379', CURFEW_REDIS_SENTINEL_NAME: 'm', CURFEW_REDIS_SHARDS: '0' })).problems.join('\n');
    expect(problems).toMatch(/redis\.cluster\.0 \(CURFEW_REDIS_CLUSTER\): each cluster node must be host:port/);
    expect(problems).toMatch(/CURFEW_REDIS_CLUSTER\): needs REDIS_URL/);
    expect(problems).toMatch(/one or the other/);
    expect(problems).toMatch(/CURFEW_REDIS_SHARDS/);
  });
});
