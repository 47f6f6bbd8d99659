import { ReplyError } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { CurfewError, StoreUnavailableError } from '../../src/errors.ts';
import { guardStore, meansUnavailable } from '../../src/store/store-unavailable.ts';
import { ConflictError } from '../../src/store/types.ts';

const reply = (message: string): Error => new (ReplyError as new (m: string) => Error)(message);
const withCode = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code });

describe('which store errors mean "the store could not answer"', () => {
  it.each([
    ['a command timeout (frozen network)', new Error('Command timed out')],
    ['a closed connection', new Error('Connection is closed.')],
    ['the retry limit of a request', Object.assign(new Error('Reached the max retries per request limit (which is 2). Refer to "maxRetriesPerRequest" option for details.'), { name: 'MaxRetriesPerRequestError' })],
    ['a refused connection', withCode('ECONNREFUSED')],
    ['a reset connection', withCode('ECONNRESET')],
    ['Redis loading its data', reply('LOADING Redis is loading the dataset in memory')],
    ['a read-only replica', reply("READONLY You can't write against a read only replica.")],
    ['a busy script', reply('BUSY Redis is busy running a script.')],
    ['out of memory', reply("OOM command not allowed when used memory > 'maxmemory'.")],
    ['a cluster slot without a reachable primary', new Error('Too many Cluster redirections. Last error: Error: Connection is closed.')],
    ['a cluster with no reachable node', new Error('None of startup nodes is available')],
    ['a cluster that is down', reply('CLUSTERDOWN The cluster is down')],
  ])('%s: unavailable', (_what, error) => {
    expect(meansUnavailable(error)).toBe(true);
  });

  it.each([
    ['a script error (a bug, not an outage)', reply('ERR user_script:1: Script attempted to access nonexistent global variable')],
    ['a wrong type', reply('WRONGTYPE Operation against a key holding the wrong kind of value')],
    ['a conflict', new ConflictError('username', 'taken')],
    ['a client mistake', new CurfewError('invalid_request', 'bad')],
    ['a plain bug', new TypeError('x is undefined')],
    ['not an error at all', 'Command timed out'],
  ])('%s: not unavailable', (_what, error) => {
    expect(meansUnavailable(error)).toBe(false);
  });
});

describe('the store boundary', () => {
  const parts = {
    kind: 'redis' as const,
    directory: {
      getUser: async (): Promise<string> => {
        throw new Error('Command timed out');
      },
      putUser: async (): Promise<void> => {
        throw new ConflictError('username', 'taken');
      },
      getOrg: async () => 'acme',
    },
    rateLimiter: () => ({
      reserve: async (): Promise<void> => {
        throw withCode('ECONNREFUSED');
      },
    }),
  };
  const store = guardStore(parts);

  it('turns a command Redis could not answer into StoreUnavailableError (503, temporarily_unavailable), keeping the cause', async () => {
    const error = await store.directory.getUser().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    expect(error).toMatchObject({ status: 503, statusCode: 503, expose: true, message: 'temporarily_unavailable', error: 'temporarily_unavailable' });
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('reaches the objects a factory hands out (the rate limiters)', async () => {
    await expect(store.rateLimiter().reserve()).rejects.toBeInstanceOf(StoreUnavailableError);
  });

  it('lets domain errors and answers through unchanged', async () => {
    await expect(store.directory.putUser()).rejects.toBeInstanceOf(ConflictError);
    expect(await store.directory.getOrg()).toBe('acme');
    expect(store.kind).toBe('redis');
  });
});
