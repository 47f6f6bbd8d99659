import { describe, expect, it } from 'vitest';
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
