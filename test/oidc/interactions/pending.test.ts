import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.ts';
import { createIdentifierHasher } from '../../../src/crypto/identifier-hash.ts';
import { createPendingSignIns, type PendingSignIn } from '../../../src/oidc/interactions/pending.ts';
import { createMemoryStore } from '../../../src/store/memory/index.ts';
import { createRedisStore } from '../../../src/store/redis/index.ts';
import type { Store } from '../../../src/store/types.ts';
import { deletePrefix, freshPrefix, REDIS_URL } from '../../support/redis.ts';

const TTL_SECONDS = 600;
const hash = createIdentifierHasher('pending test identifier key');
const totp: PendingSignIn = { stage: 'totp', accountId: 'alice', amr: ['pwd'] };
const stepUp: PendingSignIn = { stage: 'totp', accountId: 'alice', amr: ['pwd'], sessionUid: 'session-uid' };
const enroll: PendingSignIn = { stage: 'enroll', accountId: 'bob', amr: ['pwd'], enrollment: { sealed: { kid: 'k1', iv: 'aXY', ct: 'Y2lwaGVy', tag: 'dGFn' } } };

describe.each(['memory', 'redis'] as const)('pending sign-ins (src/oidc/interactions/pending.ts, %s store)', (kind) => {
  let store: Store;
  let prefix: string | undefined;
  const clock = new ManualClock(Date.now());
  afterEach(async () => {
    await store.close();
    if (prefix) await deletePrefix(prefix);
  });
  const open = () => {
    prefix = kind === 'redis' ? freshPrefix('pending') : undefined;
    store = kind === 'memory' ? createMemoryStore({ clock }) : createRedisStore({ url: REDIS_URL, prefix: prefix! });
    return createPendingSignIns(store.models, hash, TTL_SECONDS);
  };

  it('keeps each interaction\'s stage, as put, until dropped', async () => {
    const pending = open();
    expect(await pending.get('uid-1')).toBeUndefined();
    await pending.put('uid-1', totp);
    await pending.put('uid-2', enroll);
    await pending.put('uid-3', stepUp);
    expect(await pending.get('uid-1')).toEqual(totp);
    expect(await pending.get('uid-2')).toEqual(enroll);
    expect(await pending.get('uid-3')).toEqual(stepUp);

    await pending.put('uid-1', { stage: 'enrolled', accountId: 'alice', amr: ['pwd'] });
    expect(await pending.get('uid-1')).toEqual({ stage: 'enrolled', accountId: 'alice', amr: ['pwd'] });
    await pending.drop('uid-1');
    expect(await pending.get('uid-1')).toBeUndefined();
    expect(await pending.get('uid-2')).toEqual(enroll);
  });

  it('stores under the keyed hash of the interaction uid, never the uid itself', async () => {
    const pending = open();
    await pending.put('the-interaction-uid', totp);
    expect(await store.models.find('CurfewPendingSignIn', 'the-interaction-uid')).toBeUndefined();
    expect(await store.models.find('CurfewPendingSignIn', hash('the-interaction-uid'))).toEqual(totp);
  });
});

describe('a pending sign-in\'s lifetime', () => {
  it('is alive 1 ms before its TTL and gone at it, counted from the last put', async () => {
    const clock = new ManualClock(Date.now());
    const store = createMemoryStore({ clock });
    try {
      const pending = createPendingSignIns(store.models, hash, TTL_SECONDS);
      await pending.put('uid', totp);
      clock.advance(TTL_SECONDS * 1000 - 1);
      expect(await pending.get('uid')).toEqual(totp);
      await pending.put('uid', stepUp);
      clock.advance(TTL_SECONDS * 1000 - 1);
      expect(await pending.get('uid')).toEqual(stepUp);
      clock.advance(1);
      expect(await pending.get('uid')).toBeUndefined();
    } finally {
      await store.close();
    }
  });
});
