import { describe, expect, it } from 'vitest';
import { CONNECTION_NAME, connectRedis, describeTarget, openRedis, parseSentinelAddress } from '../../../src/store/redis/connection.ts';
import { REDIS_URL } from '../../support/redis.ts';

describe('the Redis connection', () => {
  it('reads sentinel addresses, IPv6 in brackets included', () => {
    expect(parseSentinelAddress('sentinel-1:26379')).toEqual({ host: 'sentinel-1', port: 26379 });
    expect(parseSentinelAddress('10.0.0.7:26380')).toEqual({ host: '10.0.0.7', port: 26380 });
    expect(parseSentinelAddress('[::1]:26379')).toEqual({ host: '::1', port: 26379 });
  });

  it('describes where the store is without its credentials', () => {
    const url = 'redis://curfew:s3cret@redis.internal:6380/2';
    expect(describeTarget({ url })).toBe('Redis at redis.internal:6380');
    expect(describeTarget({ url })).not.toContain('s3cret');
    const sentinel = describeTarget({ url, sentinel: { hosts: ['s1:26379', 's2:26379'], name: 'curfew-primary', password: 'sentinel-pw' } });
    expect(sentinel).toBe("the primary 'curfew-primary' of sentinels s1:26379,s2:26379");
    expect(sentinel).not.toContain('pw');
  });

  it('names every connection it opens, so CLIENT LIST tells Curfew\'s apart', async () => {
    const redis = openRedis({ url: REDIS_URL });
    try {
      expect(await redis.client('GETNAME')).toBe(CONNECTION_NAME);
    } finally {
      redis.disconnect();
    }
  });

  it('opens the store\'s connection with a bounded wait per command and a bounded retry', async () => {
    const redis = connectRedis({ url: REDIS_URL }, 1_234);
    try {
      expect(redis.options).toMatchObject({ commandTimeout: 1_234, maxRetriesPerRequest: 2, connectionName: CONNECTION_NAME });
      expect(await redis.ping()).toBe('PONG');
    } finally {
      redis.disconnect();
    }
  });

  it('asks sentinels for the primary, follows failovers, and resends a write refused READONLY', () => {
    const redis = openRedis({ url: 'redis://127.0.0.1:1', sentinel: { hosts: ['127.0.0.1:1', '[::1]:2'], name: 'primary', password: 'pw' } }, { lazyConnect: true });
    try {
      expect(redis.options).toMatchObject({ name: 'primary', sentinelPassword: 'pw', failoverDetector: true, sentinels: [{ host: '127.0.0.1', port: 1 }, { host: '::1', port: 2 }] });
      const retry = redis.options.reconnectOnError as (err: Error) => unknown;
      expect(retry(new Error('READONLY You can\'t write against a read only replica.'))).toBe(2);
      expect(retry(new Error('ERR other'))).toBe(false);
    } finally {
      redis.disconnect();
    }
  });
});
